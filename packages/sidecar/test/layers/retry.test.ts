import type { RetryOn } from '@weft/api';
import { expect } from 'chai';
import { Readable } from 'node:stream';
import { AttemptTimeoutError, ConnectError, NoEndpointsError, UpstreamResetError } from '../../src/layers/errors';
import type { ProxyResponse } from '../../src/layers/http';
import { retry, retryReason, type AttemptState, type RetryPolicy } from '../../src/layers/retry';
import { neverAborted, record, response, retryRecorder } from './fakes';

describe('layers/retry', () => {
  const policy = (over: Partial<RetryPolicy> = {}): RetryPolicy => ({
    maxTries: 3,
    perTryTimeoutMs: undefined,
    retryOn: new Set<RetryOn>(['5xx', 'connect-failure']),
    backoffBaseMs: 1,
    backoffMaxMs: 2,
    ...over,
  });
  const params = (p: RetryPolicy | undefined) => ({ retry: p, name: 'orders/0', destination: { key: 'orders.default' } });
  const request = (body: Buffer | Readable | null = null, bodyLength: number | undefined = 0) => ({ body, bodyLength, signal: neverAborted(), record: record() });

  it('makes one attempt without a policy', async () => {
    const seen: AttemptState[] = [];
    const svc = retry(params(undefined), retryRecorder().bus, async (req) => {
      seen.push(req.attempt);
      return response(503);
    });
    const req = request();
    expect((await svc(req)).status).to.equal(503);
    expect(seen.map((a) => a.number)).to.deep.equal([1]);
    expect(req.record.attempts).to.equal(1);
  });

  it('retries failures until one succeeds, avoiding the endpoint that failed, and announces each retry', async () => {
    const statuses = [503, 500, 200];
    const seen: AttemptState[] = [];
    const events = retryRecorder();
    const svc = retry(params(policy()), events.bus, async (req) => {
      seen.push({ ...req.attempt });
      req.attempt.endpoint = `ep-${req.attempt.number}`;
      return response(statuses[req.attempt.number - 1] ?? 0);
    });
    const req = request();
    const res = await svc(req);
    expect(res.status).to.equal(200);
    expect(req.record.attempts).to.equal(3);
    expect(seen.map((a) => a.avoid)).to.deep.equal([undefined, 'ep-1', 'ep-2']);
    expect(events.retries.map((e) => [e.destination, e.route, e.attempt, e.reason])).to.deep.equal([
      ['orders.default', 'orders/0', 2, 'status 503'],
      ['orders.default', 'orders/0', 3, 'status 500'],
    ]);
  });

  it('returns the last failure when the attempts are used up', async () => {
    const svc = retry(params(policy({ maxTries: 2 })), retryRecorder().bus, async () => response(502));
    const req = request();
    expect((await svc(req)).status).to.equal(502);
    expect(req.record.attempts).to.equal(2);
  });

  it('replays a buffered body on every attempt', async () => {
    const bodies: string[] = [];
    const svc = retry(params(policy()), retryRecorder().bus, async (req) => {
      bodies.push(Buffer.isBuffer(req.body) ? req.body.toString() : 'stream');
      return response(req.attempt.number < 2 ? 503 : 200);
    });
    await svc(request(Readable.from([Buffer.from('he'), Buffer.from('llo')], { objectMode: false }), undefined));
    expect(bodies).to.deep.equal(['hello', 'hello']);
  });

  it('streams a body larger than the replay cap and does not retry it', async () => {
    let calls = 0;
    const big = Buffer.alloc(100 * 1024);
    const svc = retry(params(policy()), retryRecorder().bus, async (req) => {
      calls += 1;
      expect(Buffer.isBuffer(req.body)).to.equal(false);
      return response(503);
    });
    expect((await svc(request(Readable.from([big], { objectMode: false }), big.length))).status).to.equal(503);
    expect(calls).to.equal(1);
  });

  it('times out a slow attempt and retries it', async () => {
    const svc = retry(params(policy({ perTryTimeoutMs: 20, retryOn: new Set<RetryOn>(['gateway-error']) })), retryRecorder().bus, (req) =>
      req.attempt.number === 1 ? new Promise<ProxyResponse>(() => undefined) : Promise.resolve(response(200)),
    );
    const req = request();
    expect((await svc(req)).status).to.equal(200);
    expect(req.record.attempts).to.equal(2);
  });

  it('does not retry errors that are not upstream failures', async () => {
    let calls = 0;
    const svc = retry(params(policy()), retryRecorder().bus, () => {
      calls += 1;
      return Promise.reject(NoEndpointsError.noneReady('orders.default', 'v2'));
    });
    const err = await svc(request()).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(NoEndpointsError);
    expect(calls).to.equal(1);
  });

  describe('retryReason', () => {
    const on = (...names: RetryOn[]): Set<RetryOn> => new Set(names);
    const res = (status: number) => ({ response: response(status) });
    const err = (e: Error & { code: string; httpStatus: number }) => ({ error: e });
    const table: [string, Parameters<typeof retryReason>[0], Set<RetryOn>, string | undefined][] = [
      ['500 under 5xx', res(500), on('5xx'), 'status 500'],
      ['500 not under gateway-error', res(500), on('gateway-error'), undefined],
      ['503 under gateway-error', res(503), on('gateway-error'), 'status 503'],
      ['404 never', res(404), on('5xx', 'gateway-error'), undefined],
      ['connect failure under connect-failure', err(new ConnectError('o', 'e', new Error('ECONNREFUSED'))), on('connect-failure'), 'connect-failure'],
      ['connect failure under gateway-error (it is a 503)', err(new ConnectError('o', 'e', new Error('x'))), on('gateway-error'), 'status 503'],
      ['reset under reset', err(new UpstreamResetError('o', 'e', new Error('x'))), on('reset'), 'reset'],
      ['reset not under connect-failure', err(new UpstreamResetError('o', 'e', new Error('x'))), on('connect-failure'), undefined],
      ['attempt timeout under 5xx (it is a 504)', err(new AttemptTimeoutError('o', 1, 10, 'connect')), on('5xx'), 'status 504'],
    ];
    for (const [what, outcome, retryOn, expected] of table) it(what, () => expect(retryReason(outcome, retryOn)).to.equal(expected));
  });
});
