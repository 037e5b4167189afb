import { expect } from 'chai';
import { compileSnapshot } from '../../src/config/compiled-config';
import type { CompiledConfig } from '../../src/config/types';
import { doc, SELF, service, snapshot } from './snapshot-builder';

/** Route and ServicePolicy traffic settings as the data path receives them (issue #3). */
describe('compileSnapshot: traffic policy', () => {
  const reviews = service('reviews', [{ address: '10.0.0.1:15006' }, { address: '10.0.0.3:15006' }]);
  const compile = (...resources: ReturnType<typeof doc>[]): CompiledConfig => compileSnapshot(snapshot({ services: [reviews], resources }), 'v1', SELF);
  const policy = (spec: object, service = 'reviews') => doc('ServicePolicy', service, { service, ...spec });

  it('uses the defaults without a ServicePolicy', () => {
    const s = compile().lookup('reviews');
    expect(s?.traffic).to.deep.equal({
      balancer: { name: 'round-robin' },
      pool: { maxConnections: undefined, maxPendingRequests: 1024, policy: undefined },
      outlier: undefined,
      retryBudget: { percent: 20, minRetriesPerSecond: 10 },
      connectTimeoutMs: undefined,
      idleTimeoutMs: undefined,
    });
    expect(s?.rules[0]?.retryBudget).to.equal(s?.traffic.retryBudget);
  });

  it('compiles every ServicePolicy setting onto the destination and its backends, durations in ms', () => {
    const s = compile(
      policy({
        loadBalancer: { algorithm: 'ring-hash', hashHeader: 'X-User' },
        connectionPool: { maxConnections: 4, maxPendingRequests: 2, connectTimeout: '1s', idleTimeout: '1m' },
        outlierDetection: { consecutiveErrors: 3, baseEjectionTime: '10s' },
        retryBudget: { percent: 50 },
      }),
    ).lookup('reviews');
    const backend = s?.rules[0]?.split.backends[0];
    expect(backend?.balancer).to.deep.equal({ name: 'ring-hash', hashHeader: 'x-user' });
    expect(backend?.pool).to.deep.equal({ maxConnections: 4, maxPendingRequests: 2, policy: 'reviews' });
    expect(backend?.outlier).to.deep.equal({ consecutiveErrors: 3, intervalMs: 10_000, baseEjectionMs: 10_000, maxEjectionMs: 300_000, maxEjectionPercent: 50 });
    expect(backend?.destination).to.include({ connectTimeoutMs: 1000, idleTimeoutMs: 60_000, maxConnections: 4 });
    expect(s?.rules[0]?.retryBudget).to.deep.equal({ percent: 50, minRetriesPerSecond: 10 });
    expect(Object.isFrozen(backend?.pool)).to.equal(true);
  });

  // Each row: the own service's rateLimit (SELF is frontend.default) and the compiled limit.
  const limits: [string, object | undefined, object | undefined][] = [
    ['no limit without one', undefined, undefined],
    ['burst as given', { requestsPerSecond: 5, burst: 2 }, { requestsPerSecond: 5, burst: 2, policy: 'frontend' }],
    ['burst defaults to one second of requests', { requestsPerSecond: 2.5 }, { requestsPerSecond: 2.5, burst: 3, policy: 'frontend' }],
    ['burst is at least one', { requestsPerSecond: 0.2 }, { requestsPerSecond: 0.2, burst: 1, policy: 'frontend' }],
  ];
  for (const [what, rateLimit, expected] of limits) {
    it(`local rate limit: ${what}`, () => {
      const c = compile(...(rateLimit ? [policy({ rateLimit }, 'frontend')] : []));
      expect(c.localRateLimit).to.deep.equal(expected);
    });
  }

  it("takes the local rate limit from this sidecar's own service only", () => {
    expect(compile(policy({ rateLimit: { requestsPerSecond: 1 } })).localRateLimit).to.equal(undefined);
  });

  it('compiles retry options and header changes once, names in lower case', () => {
    const r = compile(
      doc('Route', 'reviews', {
        service: 'reviews',
        rules: [
          {
            retries: { attempts: 2, retryOn: ['unavailable'], retryNonIdempotent: true, attemptsHeader: false },
            headers: { request: { set: { 'X-Tenant': 'blue' }, add: { 'X-Trail': 'weft' }, remove: ['X-Debug'] }, response: { remove: ['Server'] } },
          },
          { retries: { attempts: 1 } },
        ],
      }),
    ).lookup('reviews')?.rules;
    expect(r?.[0]?.retry).to.include({ maxTries: 3, retryNonIdempotent: true, attemptsHeader: false });
    expect([...(r?.[0]?.retry?.retryOn ?? [])]).to.deep.equal(['unavailable']);
    expect(r?.[0]?.headers).to.deep.equal({
      request: { remove: ['x-debug'], set: [['x-tenant', 'blue']], add: [['x-trail', 'weft']] },
      response: { remove: ['server'], set: [], add: [] },
    });
    expect(r?.[1]?.retry).to.include({ retryNonIdempotent: false, attemptsHeader: true });
    expect(r?.[1]?.headers).to.equal(undefined);
  });

  it('describes the traffic settings in force on /config', () => {
    const view = JSON.parse(
      JSON.stringify(compile(policy({ loadBalancer: { algorithm: 'least-request' }, outlierDetection: { consecutiveErrors: 2 } }), policy({ rateLimit: { requestsPerSecond: 3 } }, 'frontend')).describe()),
    ) as { localRateLimit: unknown; services: { servicePolicy: string; traffic: Record<string, unknown> }[] };
    expect(view.localRateLimit).to.deep.equal({ requestsPerSecond: 3, burst: 3, policy: 'frontend' });
    const reviewsView = view.services.find((s) => s.servicePolicy === 'reviews');
    expect(reviewsView?.traffic['loadBalancer']).to.deep.equal({ algorithm: 'least-request' });
    expect(reviewsView?.traffic['outlierDetection']).to.deep.equal({ consecutiveErrors: 2, interval: '10s', baseEjectionTime: '30s', maxEjectionPercent: 50 });
    expect(reviewsView?.traffic['retryBudget']).to.deep.equal({ percent: 20, minRetriesPerSecond: 10 });
  });
});
