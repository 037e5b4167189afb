import type { Readable } from 'node:stream';
import { expect } from 'chai';
import { performance } from 'node:perf_hooks';
import { DeadlineExceededError, UpstreamTimeoutError } from '../../src/layers/errors';
import type { ProxyResponse } from '../../src/layers/service';
import { timeout, withDeadline } from '../../src/layers/timeout';
import { neverAborted, record, response } from './fakes';
import type { CancelSignal } from '../../src/layers/cancel';

describe('layers/timeout', () => {
  const params = { timeoutMs: 30, name: 'orders/0', destination: { key: 'orders.default' } };

  it('passes the request through untouched without a timeout or a caller deadline', async () => {
    let seen: unknown;
    const req = { signal: neverAborted(), record: record() };
    await timeout({ ...params, timeoutMs: undefined }, async (r) => ((seen = r), response(200)))(req);
    expect(seen).to.equal(req);
  });

  it("lets the caller's own deadline win when it is earlier than the route's, and says so", async () => {
    let deadlineAt: number | undefined;
    const svc = timeout({ ...params, timeoutMs: 1000 }, (req) => ((deadlineAt = req.deadlineAt), new Promise<ProxyResponse>(() => undefined)));
    const startedAt = performance.now();
    const err = await svc({ signal: neverAborted(), record: record(), deadlineAt: startedAt + 20 }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(DeadlineExceededError);
    expect((err as DeadlineExceededError).code).to.equal('WEFT_ERR_DEADLINE_EXCEEDED');
    expect(performance.now() - startedAt).to.be.lessThan(500);
    expect(deadlineAt).to.be.closeTo(startedAt + 20, 5);
  });

  it("narrows a caller's later deadline to the route's, and passes the narrowed one down", async () => {
    let deadlineAt: number | undefined;
    const svc = timeout(params, (req) => ((deadlineAt = req.deadlineAt), new Promise<ProxyResponse>(() => undefined)));
    const startedAt = performance.now();
    const pending = svc({ signal: neverAborted(), record: record(), deadlineAt: startedAt + 60_000 });
    const calledAt = performance.now(); // the layer set its deadline in between, however long a loaded machine took
    const err = await pending.catch((e: unknown) => e);
    expect(err).to.be.instanceOf(UpstreamTimeoutError);
    expect(deadlineAt).to.be.within(startedAt + params.timeoutMs, calledAt + params.timeoutMs);
  });

  it("enforces a caller's deadline when the route has no timeout", async () => {
    const svc = timeout({ ...params, timeoutMs: undefined }, () => new Promise<ProxyResponse>(() => undefined));
    const err = await svc({ signal: neverAborted(), record: record(), deadlineAt: performance.now() + 10 }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(DeadlineExceededError);
  });

  it('resolves with the response when it comes in time', async () => {
    const svc = timeout(params, async () => response(200));
    expect((await svc({ signal: neverAborted(), record: record() })).status).to.equal(200);
  });

  it('holds a route timeout longer than Node can time (30 days) instead of firing at once', async () => {
    // setTimeout takes at most 2^31 - 1 ms (24.8 days); past that Node fires after 1 ms.
    const svc = timeout({ ...params, timeoutMs: 30 * 86_400_000 }, () => new Promise<ProxyResponse>((resolve) => setTimeout(() => resolve(response(200)), 50)));
    expect((await svc({ signal: neverAborted(), record: record() })).status).to.equal(200);
  });

  it('rejects with UpstreamTimeoutError naming the phase, and aborts the layers below', async () => {
    let seen: CancelSignal | undefined;
    const rec = record();
    const svc = timeout(params, (req) => {
      seen = req.signal;
      req.record.phase = 'response headers';
      return new Promise<ProxyResponse>(() => undefined); // never answers
    });
    const err = await svc({ signal: neverAborted(), record: rec }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(UpstreamTimeoutError);
    expect((err as UpstreamTimeoutError).code).to.equal('WEFT_ERR_UPSTREAM_TIMEOUT');
    expect((err as Error).message).to.contain('30ms').and.contain('response headers').and.contain('orders/0');
    expect(seen?.aborted).to.equal(true);
    expect(seen?.reason).to.equal(err);
  });

  it('follows the parent signal after the headers (a client that leaves stops the body)', async () => {
    const parent = new AbortController();
    let seen: CancelSignal | undefined;
    await withDeadline(1000, parent.signal, async (signal) => {
      seen = signal;
      return response(200);
    }, () => new Error('late'));
    parent.abort(new Error('gone'));
    expect(seen?.aborted).to.equal(true);
  });

  it('destroys a response that arrives after the deadline', async () => {
    const late = response(200);
    const p = withDeadline(5, neverAborted(), () => new Promise((resolve) => setTimeout(() => resolve(late), 20)), () => new Error('deadline'));
    await p.catch(() => undefined);
    await new Promise((r) => setTimeout(r, 30));
    expect((late.body as Readable | null)?.destroyed).to.equal(true);
  });
});
