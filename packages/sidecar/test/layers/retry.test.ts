import { text } from 'node:stream/consumers';
import type { RetryOn } from '@weft/api';
import { expect } from 'chai';
import { Readable } from 'node:stream';
import { AttemptTimeoutError, ConnectError, NoEndpointsError, UpstreamResetError, type ProxyError } from '../../src/layers/errors';
import type { ProxyResponse } from '../../src/layers/service';
import { retry, retryReason, type AttemptState, type RetryPolicy } from '../../src/layers/retry';
import { RetryBudgets } from '../../src/layers/retry-budget';
import { neverAborted, record, response, retryRecorder } from './fakes';

describe('layers/retry', () => {
  const policy = (over: Partial<RetryPolicy> = {}): RetryPolicy => ({
    maxTries: 3,
    perTryTimeoutMs: undefined,
    retryOn: new Set<RetryOn>(['5xx', 'connect-failure']),
    backoffBaseMs: 1,
    backoffMaxMs: 2,
    retryNonIdempotent: false,
    attemptsHeader: true,
    byDefault: false,
    ...over,
  });
  const BIG_BUDGET = { percent: 100, minRetriesPerSecond: 1000 };
  const params = (p: RetryPolicy | undefined, retryBudget = BIG_BUDGET) => ({ retry: p, retryBudget, name: 'orders/0', destination: { key: 'orders.default' } });
  const env = (events = retryRecorder()) => ({ events: events.bus, budgets: new RetryBudgets() });
  const request = (body: Buffer | Readable | null = null, bodyLength: number | undefined = 0, method = 'GET', headers: Record<string, string> = {}) => ({
    method,
    headers,
    body,
    bodyLength,
    signal: neverAborted(),
    record: record(),
  });

  it('makes one attempt without a policy', async () => {
    const seen: AttemptState[] = [];
    const svc = retry(params(undefined), env(), async (req) => {
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
    const svc = retry(params(policy()), env(events), async (req) => {
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
    const svc = retry(params(policy({ maxTries: 2 })), env(), async () => response(502));
    const req = request();
    expect((await svc(req)).status).to.equal(502);
    expect(req.record.attempts).to.equal(2);
  });

  it('replays the whole body to every attempt', async () => {
    const bodies: string[] = [];
    const svc = retry(params(policy()), env(), async (req) => {
      const body = req.body;
      bodies.push(body === null ? '' : Buffer.isBuffer(body) ? body.toString() : await text(body));
      return response(req.attempt.number < 2 ? 503 : 200);
    });
    await svc(request(Readable.from([Buffer.from('he'), Buffer.from('llo')], { objectMode: false }), undefined, 'PUT'));
    expect(bodies).to.deep.equal(['hello', 'hello']);
  });

  it('streams a body larger than the replay cap and does not retry it', async () => {
    let calls = 0;
    const big = Buffer.alloc(100 * 1024);
    const svc = retry(params(policy()), env(), async (req) => {
      calls += 1;
      expect(Buffer.isBuffer(req.body)).to.equal(false);
      return response(503);
    });
    expect((await svc(request(Readable.from([big], { objectMode: false }), big.length, 'PUT'))).status).to.equal(503);
    expect(calls).to.equal(1);
  });

  it('times out a slow attempt and retries it', async () => {
    const svc = retry(params(policy({ perTryTimeoutMs: 20, retryOn: new Set<RetryOn>(['gateway-error']) })), env(), (req) =>
      req.attempt.number === 1 ? new Promise<ProxyResponse>(() => undefined) : Promise.resolve(response(200)),
    );
    const req = request();
    expect((await svc(req)).status).to.equal(200);
    expect(req.record.attempts).to.equal(2);
  });

  it('does not retry errors that are not upstream failures', async () => {
    let calls = 0;
    const svc = retry(params(policy()), env(), () => {
      calls += 1;
      return Promise.reject(NoEndpointsError.noneReady('orders.default', 'v2'));
    });
    const err = await svc(request()).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(NoEndpointsError);
    expect(calls).to.equal(1);
  });

  describe('idempotency', () => {
    // Each row: method (and content type), route opts in, what the upstream does, tries expected.
    const rows: [string, boolean, 'status 503' | 'connect failure', number][] = [
      ['GET', false, 'status 503', 3],
      ['PUT', false, 'status 503', 3],
      ['DELETE', false, 'status 503', 3],
      ['POST', false, 'status 503', 1],
      ['PATCH', false, 'status 503', 1],
      ['LOCK', false, 'status 503', 1],
      ['POST', true, 'status 503', 3],
      // A connect failure means nothing was sent: safe to retry whatever the method.
      ['POST', false, 'connect failure', 3],
      // gRPC calls are all POST; naming their statuses in retryOn is the opt-in, as in gRPC.
      ['POST application/grpc', false, 'status 503', 3],
      ['POST application/grpc+proto', false, 'status 503', 3],
      ['POST application/json', false, 'status 503', 1],
    ];
    for (const [what, optIn, failure, tries] of rows) {
      const [method = 'GET', contentType] = what.split(' ');
      it(`${what} ${optIn ? 'with' : 'without'} retryNonIdempotent after a ${failure}: ${tries} tries`, async () => {
        const events = retryRecorder();
        const skipped: string[] = [];
        events.bus.on('weft:retry-skipped', (e) => skipped.push(e.reason));
        let calls = 0;
        const svc = retry(params(policy({ retryNonIdempotent: optIn })), env(events), async () => {
          calls += 1;
          if (failure === 'connect failure') throw new ConnectError('orders.default', 'e', new Error('ECONNREFUSED'));
          return response(503);
        });
        await svc(request(null, 0, method, contentType ? { 'content-type': contentType } : {})).catch(() => undefined);
        expect(calls).to.equal(tries);
        expect(skipped).to.deep.equal(tries === 1 ? ['non-idempotent'] : []);
      });
    }
  });

  describe('budget', () => {
    it('returns the failure instead of retrying once the budget is spent, and says so', async () => {
      const events = retryRecorder();
      const skipped: string[] = [];
      events.bus.on('weft:retry-skipped', (e) => skipped.push(e.reason));
      let calls = 0;
      // 10% of requests and no minimum: 10 requests earn 1 retry.
      const svc = retry(params(policy({ maxTries: 2 }), { percent: 10, minRetriesPerSecond: 0 }), { ...env(events), now: () => 0 }, async () => {
        calls += 1;
        return response(503);
      });
      for (let i = 0; i < 10; i++) expect((await svc(request())).status).to.equal(503);
      expect(calls).to.equal(11);
      expect(skipped.filter((r) => r === 'budget')).to.have.length(9);
      expect(events.retries).to.have.length(1);
    });

    it('keeps one budget per destination across layers built for new config versions', async () => {
      const shared = { ...env(), now: () => 0 };
      let calls = 0;
      const build = () =>
        retry(params(policy({ maxTries: 2 }), { percent: 0, minRetriesPerSecond: 1 }), shared, async () => {
          calls += 1;
          return response(503);
        });
      await build()(request()); // uses the one retry the minimum allows
      await build()(request()); // a new layer, the same budget: no retry left
      expect(calls).to.equal(3);
    });
  });

  it('leaves x-weft-attempts to the route: attemptsHeader goes on the record', async () => {
    const req = request();
    await retry(params(policy({ attemptsHeader: false })), env(), async (r) => response(r.attempt.number < 2 ? 503 : 200))(req);
    expect(req.record.attempts).to.equal(2);
    expect(req.record.attemptsHeader).to.equal(false);
  });

  describe('retryReason', () => {
    const on = (...names: RetryOn[]): Set<RetryOn> => new Set(names);
    const res = (status: number, headers: Record<string, string> = {}) => ({ response: { ...response(status), headers } });
    const err = (e: ProxyError) => ({ error: e });
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
      ['grpc-status 14 under unavailable', res(200, { 'grpc-status': '14' }), on('unavailable'), 'grpc unavailable'],
      ['grpc-status 8 under resource-exhausted', res(200, { 'grpc-status': '8' }), on('resource-exhausted'), 'grpc resource-exhausted'],
      ['grpc-status 1 under cancelled', res(200, { 'grpc-status': '1' }), on('cancelled'), 'grpc cancelled'],
      ['grpc-status 4 under deadline-exceeded', res(200, { 'grpc-status': '4' }), on('deadline-exceeded'), 'grpc deadline-exceeded'],
      ['grpc-status 13 under internal', res(200, { 'grpc-status': '13' }), on('internal'), 'grpc internal'],
      ['grpc-status 14 not under internal', res(200, { 'grpc-status': '14' }), on('internal', '5xx'), undefined],
      ['grpc-status 0 never', res(200, { 'grpc-status': '0' }), on('unavailable', 'internal', 'cancelled'), undefined],
      ['grpc-status 5 (not found) never', res(200, { 'grpc-status': '5' }), on('unavailable', 'internal', '5xx'), undefined],
    ];
    for (const [what, outcome, retryOn, expected] of table) it(what, () => expect(retryReason(outcome, retryOn)).to.equal(expected));
  });
});
