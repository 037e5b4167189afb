import { HEADERS } from '@weft/api';
import { expect } from 'chai';
import { callCounter, resource, TestMesh, type Caller, type Instance } from './mesh-fixture';

describe('scenario: retry policy (idempotency, failed endpoint, attempts header, timeouts)', function () {
  this.timeout(20_000);
  let mesh: TestMesh;
  let frontend: Caller;
  let broken: Instance;
  const { calls, count } = callCounter();

  before(async () => {
    mesh = new TestMesh();
    // Three instances of payments; one of them (broken) fails everything under /any.
    for (let i = 0; i < 3; i++) {
      const instance = await mesh.addInstance('payments', (req, res) => {
        const url = req.url ?? '';
        const n = count(`${req.method} ${url}`);
        if (url === '/any' && i === 0) {
          res.statusCode = 503;
          res.end('broken instance');
        } else if (url === '/flaky') {
          res.statusCode = n === 1 ? 503 : 200;
          res.end(n === 1 ? 'first try fails' : 'ok');
        } else if (url === '/hang') {
          // never answers: the timeouts must
        } else res.end('ok');
      });
      if (i === 0) broken = instance;
    }
    const retries = { retryOn: ['5xx'], backoff: { baseInterval: '1ms', maxInterval: '2ms' } };
    mesh.setResources([
      resource('ServicePolicy', 'payments', { service: 'payments', loadBalancer: { algorithm: 'random' }, retryBudget: { percent: 100, minRetriesPerSecond: 1000 } }),
      resource('Route', 'payments', {
        service: 'payments',
        rules: [
          { match: [{ path: { exact: '/any' } }], retries: { attempts: 1, ...retries } },
          { match: [{ path: { exact: '/flaky' }, headers: [{ name: 'x-opt-in', present: true }] }], retries: { attempts: 2, retryNonIdempotent: true, ...retries } },
          { match: [{ path: { exact: '/flaky' }, headers: [{ name: 'x-quiet', present: true }] }], retries: { attempts: 2, attemptsHeader: false, ...retries } },
          { match: [{ path: { exact: '/flaky' } }], retries: { attempts: 2, ...retries } },
          { match: [{ path: { exact: '/hang' } }], timeout: '250ms', retries: { attempts: 5, perTryTimeout: '100ms', retryOn: ['gateway-error'], backoff: { baseInterval: '20ms', maxInterval: '40ms' } } },
        ],
      }),
    ]);
    frontend = await mesh.addCaller('frontend');
  });
  after(() => mesh.close());

  it('never retries on the endpoint that just failed when another is available (random balancer, 3 endpoints)', async () => {
    // A retry that could land on the broken instance again would fail ~1 request in 9.
    for (let i = 0; i < 90; i++) {
      const res = await frontend.send('/any', { host: 'payments' });
      expect(res.status, res.text()).to.equal(200);
    }
    expect(calls.get('GET /any')).to.be.greaterThan(90); // the broken one was tried first some of the time
    expect(broken.address).to.be.a('string');
  });

  it('does not retry a POST unless the route opts in', async () => {
    calls.clear();
    const plain = await frontend.send('/flaky', { host: 'payments', method: 'POST', body: '{"amount":1}' });
    expect(plain.status).to.equal(503);
    expect(calls.get('POST /flaky')).to.equal(1);
    expect(frontend.telemetry.renderMetrics()).to.contain('weft_retries_skipped_total{destination="payments.default",reason="non-idempotent"} 1');

    calls.clear();
    const optedIn = await frontend.send('/flaky', { host: 'payments', method: 'POST', body: '{"amount":1}', headers: { 'x-opt-in': '1' } });
    expect(optedIn.status).to.equal(200);
    expect(optedIn.headers[HEADERS.attempts]).to.equal('2');
    expect(calls.get('POST /flaky')).to.equal(2);
  });

  it('retries a GET and says so in x-weft-attempts, unless the route turns the header off', async () => {
    calls.clear();
    const told = await frontend.send('/flaky', { host: 'payments' });
    expect([told.status, told.headers[HEADERS.attempts]]).to.deep.equal([200, '2']);
    calls.clear();
    const quiet = await frontend.send('/flaky', { host: 'payments', headers: { 'x-quiet': '1' } });
    expect([quiet.status, quiet.headers[HEADERS.attempts]]).to.deep.equal([200, undefined]);
    expect(calls.get('GET /flaky')).to.equal(2);
  });

  it('bounds per-try timeouts and backoff by the overall timeout', async () => {
    calls.clear();
    const started = Date.now();
    const res = await frontend.send('/hang', { host: 'payments' });
    const took = Date.now() - started;
    expect(res.status).to.equal(504);
    expect(res.headers[HEADERS.error]).to.equal('WEFT_ERR_UPSTREAM_TIMEOUT');
    expect(took).to.be.within(230, 600);
    // 100 ms per try plus backoff in 250 ms: two or three tries, never the six the policy allows.
    expect(calls.get('GET /hang')).to.be.within(2, 3);
  });
});
