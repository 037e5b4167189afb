import { expect } from 'chai';
import { compileSnapshot, ConfigCompileError } from '../../src/config/compiled-config';
import { DEFAULT_RETRY_POLICY } from '../../src/layers/retry-defaults';
import { doc, SELF, service, snapshot } from './snapshot-builder';

describe('compileSnapshot', () => {
  const reviews = service('reviews', [
    { address: '10.0.0.1:15006', labels: { version: 'v1' } },
    { address: '10.0.0.2:15006', labels: { version: 'v1' }, ready: false },
    { address: '10.0.0.3:15006', labels: { version: 'v2', zone: 'a' } },
  ]);
  const shopOrders = service('orders', [{ address: '10.0.1.1:15006' }], 'shop');

  it('builds the authority table for every form of a name', () => {
    const c = compileSnapshot(snapshot({ services: [reviews, shopOrders] }), 'v1', SELF);
    const table: [string, string | undefined][] = [
      ['reviews', 'reviews.default'],
      ['reviews.default', 'reviews.default'],
      ['reviews.default.svc', 'reviews.default'],
      ['reviews.default.svc.cluster.local', 'reviews.default'],
      ['orders', undefined], // another namespace: the short name does not resolve
      ['orders.shop', 'orders.shop'],
      ['orders.shop.svc.cluster.local', 'orders.shop'],
      ['reviews.shop', undefined],
    ];
    for (const [authority, key] of table) expect(c.lookup(authority)?.key, authority).to.equal(key);
  });

  it('keeps version, revision, bundle and the effective mesh config', () => {
    const c = compileSnapshot(snapshot({ meshConfigJson: JSON.stringify({ accessLog: true, tracing: { otlpEndpoint: 'otel:4317' } }) }), 'v9', SELF);
    expect(c.version).to.equal('v9');
    expect(c.storeRevision).to.equal(7);
    expect(c.trustBundlePem).to.deep.equal(['ROOT']);
    expect(c.mesh).to.deep.equal({ trustDomain: 'weft.local', mtls: 'STRICT', minTLSVersion: 'TLSv1.3', certificateTTL: '24h', tracing: { otlpEndpoint: 'otel:4317', samplingPercent: 1, maxQueueSize: 2048, compression: 'none' }, accessLog: true, outboundTrafficPolicy: 'ALLOW_ANY' });
    expect(Object.isFrozen(c)).to.equal(true);
    expect(Object.isFrozen(c.mesh.tracing)).to.equal(true);
  });

  it('compiles a default rule without a Route: all ready endpoints, the default retry', () => {
    const s = compileSnapshot(snapshot({ services: [reviews] }), 'v1', SELF).lookup('reviews');
    expect(s?.rules).to.have.length(1);
    const rule = s?.rules[0];
    expect(rule?.name).to.equal('default');
    expect(rule?.retry).to.equal(DEFAULT_RETRY_POLICY);
    expect(rule?.split.backends[0]?.endpoints.map((e) => e.address)).to.deep.equal(['10.0.0.1:15006', '10.0.0.3:15006']);
  });

  it('groups ready endpoints per subset and shares one backend object per subset', () => {
    const c = compileSnapshot(
      snapshot({
        services: [reviews],
        resources: [
          doc('ServicePolicy', 'reviews', { service: 'reviews', subsets: [{ name: 'v1', labels: { version: 'v1' } }, { name: 'v2', labels: { version: 'v2' } }] }),
          doc('Route', 'reviews', {
            service: 'reviews',
            rules: [
              { match: [{ headers: [{ name: 'X-Canary', present: true }] }], backends: [{ subset: 'v2' }] },
              { backends: [{ subset: 'v1', weight: 90 }, { subset: 'v2', weight: 10 }], timeout: '2s' },
            ],
          }),
        ],
      }),
      'v1',
      SELF,
    );
    const s = c.lookup('reviews');
    expect(s?.subsets.get('v1')?.map((e) => e.address)).to.deep.equal(['10.0.0.1:15006']);
    expect(s?.subsets.get('v2')?.map((e) => e.address)).to.deep.equal(['10.0.0.3:15006']);
    const [canary, split] = s?.rules ?? [];
    expect(canary?.name).to.equal('reviews/0');
    expect(canary?.matches[0]?.headers[0]).to.deep.equal({ name: 'x-canary', kind: 'present', present: true });
    expect(split?.split.cumulative).to.deep.equal([90, 100]);
    expect(split?.split.total).to.equal(100);
    expect(split?.timeoutMs).to.equal(2000);
    expect(split?.split.backends[1]).to.equal(canary?.split.backends[0]);
  });

  it("gives a rule without `retries` the default retry, and none with `attempts: 0`", () => {
    const c = compileSnapshot(
      snapshot({ services: [reviews], resources: [doc('Route', 'reviews', { service: 'reviews', rules: [{ match: [{ method: 'GET' }], retries: { attempts: 0 } }, {}] })] }),
      'v1',
      SELF,
    );
    const [off, silent] = c.lookup('reviews')?.rules ?? [];
    expect(off?.retry).to.equal(undefined);
    expect(silent?.retry).to.equal(DEFAULT_RETRY_POLICY);
    expect(DEFAULT_RETRY_POLICY).to.include({ maxTries: 3, byDefault: true, backoffMaxMs: 0 });
    expect([...DEFAULT_RETRY_POLICY.retryOn]).to.deep.equal(['connect-failure']);
  });

  it('fills retry defaults from one block', () => {
    const c = compileSnapshot(
      snapshot({ services: [reviews], resources: [doc('Route', 'reviews', { service: 'reviews', rules: [{ retries: { attempts: 2 } }] })] }),
      'v1',
      SELF,
    );
    const retry = c.lookup('reviews')?.rules[0]?.retry;
    expect(retry?.maxTries).to.equal(3);
    expect(retry?.backoffBaseMs).to.equal(25);
    expect(retry?.backoffMaxMs).to.equal(250);
    expect(retry?.perTryTimeoutMs).to.equal(undefined);
    expect([...(retry?.retryOn ?? [])]).to.deep.equal(['connect-failure', 'reset', 'gateway-error']);
  });

  it('tries the rules of several Routes in name order', () => {
    const c = compileSnapshot(
      snapshot({
        services: [reviews],
        resources: [
          doc('Route', 'b-second', { service: 'reviews', rules: [{}] }),
          doc('Route', 'a-first', { service: 'reviews', rules: [{ match: [{ method: 'POST' }] }] }),
        ],
      }),
      'v1',
      SELF,
    );
    expect(c.lookup('reviews')?.rules.map((r) => r.name)).to.deep.equal(['a-first/0', 'b-second/0']);
  });

  it('enforces every ServicePolicy feature, so nothing is left in notes', () => {
    const c = compileSnapshot(
      snapshot({ services: [reviews], resources: [doc('ServicePolicy', 'reviews', { service: 'reviews', loadBalancer: { algorithm: 'least-request' }, rateLimit: { requestsPerSecond: 5 } })] }),
      'v1',
      SELF,
    );
    const s = c.lookup('reviews');
    expect(s?.rules[0]?.split.backends[0]?.balancer).to.deep.equal({ name: 'least-request' });
    expect(s?.notes).to.deep.equal([]);
  });

  it('describes what is in force as JSON', () => {
    const c = compileSnapshot(
      snapshot({
        services: [reviews],
        resources: [
          doc('Route', 'reviews', {
            service: 'reviews',
            rules: [{ match: [{ path: { regex: '/r/[0-9]+' } }], retries: { attempts: 1, perTryTimeout: '100ms' }, fault: { abort: { percent: 5, httpStatus: 503 } } }],
          }),
        ],
      }),
      'v3',
      SELF,
    );
    const view = JSON.parse(JSON.stringify(c.describe())) as {
      version: string;
      services: { rules: { match: unknown; retries: unknown; fault: unknown; backends: unknown }[]; endpoints: unknown[] }[];
    };
    expect(view.services[0]?.rules[0]?.fault).to.deep.equal({ abort: { percent: 5, httpStatus: 503 } });
    expect(view.services[0]?.rules[0]?.backends).to.deep.equal([{ subset: '(all endpoints)', weight: 100, balancer: 'round-robin', readyEndpoints: 2 }]);
    expect(view.version).to.equal('v3');
    expect(view.services[0]?.endpoints).to.have.length(3);
    expect(view.services[0]?.rules[0]?.match).to.deep.equal([{ path: { regex: '/r/[0-9]+' } }]);
    expect(view.services[0]?.rules[0]?.retries).to.deep.include({ attempts: 1, perTryTimeout: '100ms' });
    expect(JSON.stringify(view)).to.not.contain('PRIVATE KEY');
  });

  describe('refuses (NACK) with a message naming the resource and field', () => {
    const cases: [string, Parameters<typeof snapshot>[0], RegExp][] = [
      [
        'a negative retry count',
        { resources: [doc('Route', 'reviews', { service: 'reviews', rules: [{ retries: { attempts: -1 } }] })] },
        /Route reviews: spec\.rules\[0\]\.retries\.attempts: must be >= 0/,
      ],
      ['an unknown field', { resources: [doc('Route', 'r', { service: 'reviews', rules: [{ timeuot: '1s' }] })] }, /Route r: spec\.rules\[0\]\.timeuot: unknown field/],
      ['a body that is not JSON', { resources: [{ kind: 'Route', name: 'x', namespace: 'default', json: '{nope' }] }, /Route x: is not valid JSON/],
      ['a bad mesh config', { meshConfigJson: JSON.stringify({ mtls: 'SOMETIMES' }) }, /MeshConfig default: spec\.mtls: must be one of/],
      [
        'an envelope that does not match its body',
        { resources: [{ ...doc('Route', 'a', { service: 'reviews', rules: [{}] }), name: 'b' }] },
        /the body is Route default\/a but the envelope says Route default\/b/,
      ],
      ['a service listed twice', { services: [reviews, reviews] }, /reviews\.default is listed twice/],
      [
        // The schema accepts it; only the sidecar knows its HTTP header limit (http.maxHeaderSize).
        'request headers larger than the HTTP header limit',
        { services: [reviews], resources: [doc('Route', 'reviews', { service: 'reviews', rules: [{ headers: { request: { set: { 'x-a': 'a'.repeat(10_000) }, add: { 'x-b': 'b'.repeat(7_000) } } } }] })] },
        /Route reviews: spec\.rules\[0\]\.headers\.request: sets and adds 17014 bytes of request headers, more than this sidecar's HTTP header limit of 16384 bytes/,
      ],
    ];
    for (const [what, parts, message] of cases) {
      it(what, () => {
        expect(() => compileSnapshot(snapshot(parts), 'v1', SELF))
          .to.throw(ConfigCompileError, message)
          .with.property('code', 'WEFT_ERR_CONFIG_REJECTED');
      });
    }
  });
});

describe('compiled address tables (captured connections)', () => {
  const c = compileSnapshot(
    snapshot({
      services: [
        service('orders', [{ address: '10.0.0.7:15006', appPort: 8080 }]),
        // Two services on one VM: HOST:PORT tells them apart, the bare host cannot.
        service('billing', [{ address: '10.0.0.30:15006', appPort: 9000 }]),
        service('ledger', [{ address: '10.0.0.30:15007', appPort: 9001 }]),
        service('legacy', [{ address: '10.0.0.40:15006' }]),
      ],
    }),
    'v1',
    SELF,
  );

  it('maps an announced HOST:APP_PORT to its service, and nothing else', () => {
    expect(c.lookupAddress('10.0.0.7', 8080)?.key).to.equal('orders.default');
    expect(c.lookupAddress('10.0.0.7', 8081)).to.equal(undefined);
    expect(c.lookupAddress('10.0.0.30', 9001)?.key).to.equal('ledger.default');
    expect(c.lookupAddress('10.0.0.40', 15006)).to.equal(undefined);
  });

  it('lets an endpoint host name its service as an authority only when it serves one service', () => {
    expect(c.lookup('10.0.0.7')?.key).to.equal('orders.default');
    expect(c.lookup('10.0.0.30')).to.equal(undefined);
  });
});
