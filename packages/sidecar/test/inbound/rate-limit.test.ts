import { expect } from 'chai';
import type { CompiledRateLimit } from '../../src/config/types';
import { RateLimitedError, rateLimit, TokenBucket } from '../../src/inbound/rate-limit';
import { TelemetryEvents } from '../../src/telemetry/events';
import { response } from '../layers/fakes';

describe('inbound/rate-limit', () => {
  describe('TokenBucket', () => {
    // Each row: limit, times (ms) of requests, and which were let in.
    const rows: [string, { requestsPerSecond: number; burst: number }, number[], boolean[]][] = [
      ['the burst goes through at once, then no more', { requestsPerSecond: 10, burst: 3 }, [0, 0, 0, 0], [true, true, true, false]],
      ['a token comes back every 1/rate seconds', { requestsPerSecond: 10, burst: 1 }, [0, 50, 100, 150, 200], [true, false, true, false, true]],
      ['an idle bucket refills up to the burst, not beyond', { requestsPerSecond: 10, burst: 2 }, [0, 0, 10_000, 10_000, 10_000], [true, true, true, true, false]],
      ['a slow rate', { requestsPerSecond: 0.5, burst: 1 }, [0, 1000, 1999, 2000], [true, false, false, true]],
    ];
    for (const [what, limit, times, expected] of rows) {
      it(what, () => {
        const bucket = new TokenBucket();
        expect(times.map((t) => bucket.take(limit, t) === 0)).to.deep.equal(expected);
      });
    }

    it('says how long until the next token', () => {
      const bucket = new TokenBucket();
      bucket.take({ requestsPerSecond: 0.25, burst: 1 }, 0);
      expect(bucket.take({ requestsPerSecond: 0.25, burst: 1 }, 1000)).to.be.closeTo(3000, 1e-6);
    });

    it('keeps what it used when the limit changes, clamped to the new burst', () => {
      const bucket = new TokenBucket();
      for (let i = 0; i < 5; i++) bucket.take({ requestsPerSecond: 1, burst: 10 }, 0);
      // 5 left; a new burst of 2 clamps them to 2.
      const after = [0, 0, 0].map(() => bucket.take({ requestsPerSecond: 1, burst: 2 }, 0) === 0);
      expect(after).to.deep.equal([true, true, false]);
    });
  });

  describe('layer', () => {
    const limit: CompiledRateLimit = { requestsPerSecond: 2, burst: 1, policy: 'orders' };
    const setup = (configLimit: CompiledRateLimit | undefined) => {
      let now = 0;
      let calls = 0;
      const events = new TelemetryEvents();
      const limited: string[] = [];
      events.on('weft:rate-limited', (e) => limited.push(`${e.source} -> ${e.destination}`));
      const svc = rateLimit({ destination: 'orders.default', events, now: () => now }, async () => {
        calls += 1;
        return response(200);
      });
      const req = { config: { localRateLimit: configLimit }, record: { source: 'frontend.default' } };
      return { svc, req, limited, calls: () => calls, at: (ms: number) => (now = ms) };
    };

    it('answers 429 with retry-after (whole seconds, rounded up) past the limit, without calling the app', async () => {
      const t = setup({ ...limit, requestsPerSecond: 0.4 });
      expect((await t.svc(t.req)).status).to.equal(200);
      t.at(100);
      const err = await t.svc(t.req).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(RateLimitedError);
      const e = err as RateLimitedError;
      expect([e.httpStatus, e.code]).to.deep.equal([429, 'WEFT_ERR_RATE_LIMITED']);
      expect(e.responseHeaders).to.deep.equal({ 'retry-after': '3' }); // 2.4 s until the next token
      expect(e.message).to.contain('ServicePolicy "orders"').and.contain('0.4 requests per second');
      expect(t.calls()).to.equal(1);
      expect(t.limited).to.deep.equal(['frontend.default -> orders.default']);
    });

    it('never says retry-after: 0', async () => {
      const t = setup({ ...limit, requestsPerSecond: 1000 });
      await t.svc(t.req);
      const e = (await t.svc(t.req).catch((x: unknown) => x)) as RateLimitedError;
      expect(e.responseHeaders['retry-after']).to.equal('1');
    });

    it('lets everything through without a rateLimit, or before the first config', async () => {
      const t = setup(undefined);
      for (let i = 0; i < 20; i++) expect((await t.svc(t.req)).status).to.equal(200);
      const none = setup(limit);
      for (let i = 0; i < 3; i++) await none.svc({ ...none.req, config: undefined });
      expect(none.calls()).to.equal(3);
    });
  });
});
