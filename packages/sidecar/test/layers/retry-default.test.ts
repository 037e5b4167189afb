import { HEADERS } from '@weft/api';
import { expect } from 'chai';
import { PassThrough, Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { AppUnavailableError, ConnectError, PeerIdentityError, UpstreamResetError, type ProxyError } from '../../src/layers/errors';
import type { ProxyResponse } from '../../src/layers/service';
import { retry, retryReason, type Attempted, type RetryRequest } from '../../src/layers/retry';
import { RetryBudgets } from '../../src/layers/retry-budget';
import { neverSent } from '../../src/layers/retry-classify';
import { DEFAULT_RETRY_POLICY } from '../../src/layers/retry-defaults';
import type { SpanAttributes } from '../../src/telemetry/trace';
import { neverAborted, record, response, retryRecorder } from './fakes';

/** What the inbound side answers when its app refused the connection, as the outbound side receives it. */
function appRefused(): ProxyResponse {
  const err = new AppUnavailableError('127.0.0.1:1', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
  return { status: err.httpStatus, headers: { [HEADERS.error]: err.code, ...err.responseHeaders }, body: null };
}

const refused = (): ConnectError => new ConnectError('orders.default', 'ep', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));

describe('layers/retry with the default policy (no retries in the Route)', () => {
  const BIG_BUDGET = { percent: 100, minRetriesPerSecond: 1000 };
  const params = (retryBudget = BIG_BUDGET) => ({ retry: DEFAULT_RETRY_POLICY, retryBudget, name: 'default', destination: { key: 'orders.default' } });
  const request = (method: string, body: Buffer | Readable | null = null, bodyLength: number | undefined = 0) => {
    const events: { name: string; attributes: SpanAttributes }[] = [];
    const req: RetryRequest & { events: typeof events } = {
      method,
      headers: {},
      body,
      bodyLength,
      signal: neverAborted(),
      record: record(),
      span: { addEvent: (name, attributes) => void events.push({ name, attributes }) },
      events,
    };
    return req;
  };

  /** A fake `next` that plays `outcomes` in turn (an error is thrown) and notes what each attempt got. */
  function upstream(...outcomes: (ProxyResponse | ProxyError)[]) {
    const seen: { number: number; avoid: string | undefined; body: Readable | Buffer | null }[] = [];
    const next = async (req: Attempted<RetryRequest>): Promise<ProxyResponse> => {
      seen.push({ number: req.attempt.number, avoid: req.attempt.avoid, body: req.body });
      req.attempt.endpoint = `ep-${req.attempt.number}`;
      const outcome = outcomes[req.attempt.number - 1] ?? response(200);
      if (outcome instanceof Error) throw outcome;
      return outcome;
    };
    return { next, seen };
  }

  it('retries a POST whose connection was refused on another endpoint, and says so in metrics events and the span', async () => {
    const events = retryRecorder();
    const up = upstream(refused(), response(200));
    const req = request('POST', Buffer.from('{"n":1}'), 7);
    const res = await retry(params(), { events: events.bus, budgets: new RetryBudgets() }, up.next)(req);
    expect(res.status).to.equal(200);
    expect(up.seen.map((s) => [s.number, s.avoid])).to.deep.equal([[1, undefined], [2, 'ep-1']]);
    expect(events.retries).to.deep.equal([{ destination: 'orders.default', route: 'default', attempt: 2, reason: 'connect-failure', byDefault: true }]);
    expect(req.events).to.deep.equal([
      { name: 'weft.retry', attributes: { 'weft.attempt': 2, 'weft.retry.reason': 'connect-failure', 'weft.retry.default': true, 'weft.endpoint': 'ep-1' } },
    ]);
    expect([req.record.attempts, req.record.attemptsHeader]).to.deep.equal([2, true]);
  });

  it('retries a POST the peer sidecar could not hand to its app (x-weft-unprocessed), recognised by header, not message', async () => {
    const events = retryRecorder();
    const up = upstream(appRefused(), response(200));
    expect((await retry(params(), { events: events.bus, budgets: new RetryBudgets() }, up.next)(request('POST'))).status).to.equal(200);
    expect(events.retries.map((e) => e.reason)).to.deep.equal(['app-unreachable']);
  });

  it('retries a refused TLS identity (another workload at the address)', async () => {
    const up = upstream(new PeerIdentityError('spiffe://weft.local/ns/default/sa/orders', [], 'ep'), response(200));
    expect((await retry(params(), { events: retryRecorder().bus, budgets: new RetryBudgets() }, up.next)(request('PATCH'))).status).to.equal(200);
  });

  const notRetried: [string, ProxyResponse | ProxyError][] = [
    ['a 500 from the app', response(500)],
    ['a 503 from the app', response(503)],
    ['a 502 from the app that claims nothing', { status: 502, headers: { [HEADERS.error]: 'WEFT_ERR_APP_UNAVAILABLE' }, body: null }],
    ['a reset after the request was written', new UpstreamResetError('orders.default', 'ep', new Error('socket hang up'))],
  ];
  for (const [what, outcome] of notRetried) {
    for (const method of ['GET', 'POST']) {
      it(`does not retry a ${method} after ${what}: the app may have processed it`, async () => {
        const up = upstream(outcome, response(200));
        const result = await retry(params(), { events: retryRecorder().bus, budgets: new RetryBudgets() }, up.next)(request(method)).then(
          (r) => r.status,
          (e: ProxyError) => e.code,
        );
        expect(result).to.equal(outcome instanceof Error ? outcome.code : outcome.status);
        expect(up.seen).to.have.length(1);
      });
    }
  }

  it('makes at most three attempts', async () => {
    const up = upstream(refused(), refused(), refused(), response(200));
    const err = await retry(params(), { events: retryRecorder().bus, budgets: new RetryBudgets() }, up.next)(request('GET')).catch((e: ProxyError) => e);
    expect((err as ProxyError).code).to.equal('WEFT_ERR_CONNECT');
    expect(up.seen.map((s) => s.avoid)).to.deep.equal([undefined, 'ep-1', 'ep-2']);
  });

  it('stays within the retry budget: no retry once it is spent', async () => {
    const events = retryRecorder();
    const skipped: string[] = [];
    events.bus.on('weft:retry-skipped', (e) => skipped.push(e.reason));
    let calls = 0;
    const svc = retry(params({ percent: 20, minRetriesPerSecond: 0 }), { events: events.bus, budgets: new RetryBudgets(), now: () => 0 }, async () => {
      calls += 1;
      throw refused();
    });
    for (let i = 0; i < 10; i++) await svc(request('GET')).catch(() => undefined);
    // 10 requests earn 2 retries at 20%; without the budget it would be 30 attempts.
    expect(calls).to.equal(12);
    expect(skipped.filter((r) => r === 'budget')).to.have.length(10); // one per attempt that wanted a retry and got none
  });

  it('hands a bodyless request and a whole body to every attempt as they are: no replay buffer', async () => {
    const up = upstream(refused(), response(200));
    await retry(params(), { events: retryRecorder().bus, budgets: new RetryBudgets() }, up.next)(request('GET'));
    expect(up.seen.map((s) => s.body)).to.deep.equal([null, null]);
    const whole = Buffer.from('abc');
    const up2 = upstream(refused(), response(200));
    await retry(params(), { events: retryRecorder().bus, budgets: new RetryBudgets() }, up2.next)(request('PUT', whole, 3));
    expect(up2.seen.map((s) => s.body === whole)).to.deep.equal([true, true]);
  });

  it('replays a streamed body to the retry', async () => {
    const bodies: string[] = [];
    const svc = retry(params(), { events: retryRecorder().bus, budgets: new RetryBudgets() }, async (req) => {
      bodies.push(await text(req.body as Readable));
      if (req.attempt.number === 1) throw refused();
      return response(200);
    });
    const source = new PassThrough();
    source.end('hello');
    expect((await svc(request('POST', source, 5))).status).to.equal(200);
    expect(bodies).to.deep.equal(['hello', 'hello']);
  });

  describe('what counts as never processed', () => {
    const cause = (code: string) => Object.assign(new Error(code), { code });
    it('an app that refused the connection, and only that, makes the inbound answer say unprocessed', () => {
      expect(new AppUnavailableError('a', cause('ECONNREFUSED')).responseHeaders).to.deep.equal({ [HEADERS.unprocessed]: 'app-unreachable' });
      expect(new AppUnavailableError('a', cause('ECONNRESET')).responseHeaders).to.deep.equal({});
      expect(new AppUnavailableError('a', new Error('socket hang up')).responseHeaders).to.deep.equal({});
    });
    it('neverSent reads the header and the error codes', () => {
      expect(neverSent({ response: appRefused() })).to.equal(true);
      expect(neverSent({ response: response(502) })).to.equal(false);
      expect(neverSent({ error: refused() })).to.equal(true);
      expect(neverSent({ error: new UpstreamResetError('o', 'e', new Error('x')) })).to.equal(false);
    });
    it('a Route retrying connect failures retries the unprocessed answer too, and 5xx covers it as a 502', () => {
      expect(retryReason({ response: appRefused() }, new Set(['connect-failure']))).to.equal('app-unreachable');
      expect(retryReason({ response: appRefused() }, new Set(['5xx']))).to.equal('status 502');
      expect(retryReason({ response: appRefused() }, new Set(['reset']))).to.equal(undefined);
    });
  });
});
