import { expect } from 'chai';
import { UpstreamTimeoutError } from '../../src/layers/errors';
import type { ProxyResponse } from '../../src/layers/http';
import { timeout, withDeadline } from '../../src/layers/timeout';
import { neverAborted, record, response } from './fakes';

describe('layers/timeout', () => {
  const params = { timeoutMs: 30, name: 'orders/0', destination: { key: 'orders.default' } };

  it('passes the request through untouched without a timeout', () => {
    const next = async (): Promise<ProxyResponse> => response(200);
    expect(timeout({ ...params, timeoutMs: undefined }, next)).to.equal(next);
  });

  it('resolves with the response when it comes in time', async () => {
    const svc = timeout(params, async () => response(200));
    expect((await svc({ signal: neverAborted(), record: record() })).status).to.equal(200);
  });

  it('rejects with UpstreamTimeoutError naming the phase, and aborts the layers below', async () => {
    let seen: AbortSignal | undefined;
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
    let seen: AbortSignal | undefined;
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
    expect(late.body?.destroyed).to.equal(true);
  });
});
