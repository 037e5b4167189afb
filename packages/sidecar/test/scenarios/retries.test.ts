import { HEADERS } from '@weft/api';
import { expect } from 'chai';
import { callCounter, delay, resource, TestMesh, type Caller } from './mesh-fixture';

describe('scenario: retries and timeouts', function () {
  this.timeout(20_000);
  let mesh: TestMesh;
  let frontend: Caller;
  const { calls, count } = callCounter();

  before(async () => {
    mesh = new TestMesh();
    await mesh.addInstance('orders', (req, res) => {
      const url = req.url ?? '';
      const n = count(url);
      if (url.startsWith('/flaky')) {
        // Fails twice, then succeeds.
        res.statusCode = n <= 2 ? 503 : 200;
        res.end(n <= 2 ? 'not yet' : 'finally');
      } else if (url.startsWith('/slow-once')) {
        // The first attempt hangs past the per-try timeout; the retry is fast.
        setTimeout(() => res.end(`attempt ${n}`), n === 1 ? 1000 : 0);
      } else if (url.startsWith('/slow')) {
        setTimeout(() => res.end('late'), 1000);
      } else if (url.startsWith('/always-500')) {
        res.statusCode = 500;
        res.end('broken');
      } else {
        res.end('ok');
      }
    });
    mesh.setResources([
      resource('Route', 'orders', {
        service: 'orders',
        rules: [
          { match: [{ path: { prefix: '/flaky' } }], retries: { attempts: 2, retryOn: ['5xx'], backoff: { baseInterval: '5ms', maxInterval: '20ms' } } },
          { match: [{ path: { prefix: '/slow-once' } }], retries: { attempts: 2, perTryTimeout: '150ms', retryOn: ['gateway-error'] } },
          { match: [{ path: { prefix: '/slow' } }], timeout: '200ms' },
          { match: [{ path: { prefix: '/always-500' } }], retries: { attempts: 1, retryOn: ['gateway-error'] } },
          { match: [{ path: { exact: '/ok' } }] },
        ],
      }),
    ]);
    frontend = await mesh.addCaller('frontend');
  });
  after(() => mesh.close());

  it('turns an upstream failing twice then succeeding into a 200 with x-weft-attempts: 3', async () => {
    const res = await frontend.send('/flaky', { host: 'orders' });
    expect(res.status).to.equal(200);
    expect(res.text()).to.equal('finally');
    expect(res.headers[HEADERS.attempts]).to.equal('3');
    expect(calls.get('/flaky')).to.equal(3);
    expect(frontend.telemetry.renderMetrics()).to.contain('weft_retries_total{destination="orders.default",reason="status 503",policy="route"} 2');
  });

  it('retries a PUT body from the replay buffer', async () => {
    calls.delete('/flaky');
    const res = await frontend.send('/flaky', { host: 'orders', method: 'PUT', body: 'x'.repeat(10_000) });
    expect(res.status).to.equal(200);
    expect(res.headers[HEADERS.attempts]).to.equal('3');
  });

  it('does not retry a status outside retryOn, and sends no attempts header for one try', async () => {
    const res = await frontend.send('/always-500', { host: 'orders' });
    expect(res.status).to.equal(500);
    expect(res.headers[HEADERS.attempts]).to.equal(undefined);
    expect(calls.get('/always-500')).to.equal(1);
  });

  it('cuts an attempt at its per-try timeout and retries it', async () => {
    const started = Date.now();
    const res = await frontend.send('/slow-once', { host: 'orders' });
    expect(res.status).to.equal(200);
    expect(res.text()).to.equal('attempt 2');
    expect(res.headers[HEADERS.attempts]).to.equal('2');
    expect(Date.now() - started).to.be.below(900);
  });

  it('answers 504 when the overall timeout passes, naming the phase', async () => {
    const started = Date.now();
    const res = await frontend.send('/slow', { host: 'orders' });
    const took = Date.now() - started;
    expect(res.status).to.equal(504);
    expect(res.headers[HEADERS.error]).to.equal('WEFT_ERR_UPSTREAM_TIMEOUT');
    expect(res.text()).to.contain('200ms').and.contain('response headers');
    expect(took).to.be.within(180, 800);
  });

  it('answers 404 with a clear body when no rule matches', async () => {
    const res = await frontend.send('/nothing-here', { host: 'orders' });
    expect(res.status).to.equal(404);
    expect(res.headers[HEADERS.error]).to.equal('WEFT_ERR_NO_ROUTE');
    expect(res.text()).to.contain('GET /nothing-here').and.contain('"orders"');
  });

  it('retries a connect failure on another endpoint', async () => {
    // A dead endpoint next to the live one: round robin hits it about every other request.
    mesh.setResources([
      resource('Route', 'orders', { service: 'orders', rules: [{ retries: { attempts: 1, retryOn: ['connect-failure'] } }] }),
    ]);
    mesh.registerEndpoint('orders', '127.0.0.1:1');
    mesh.push();
    for (let i = 0; i < 6; i++) {
      const res = await frontend.send('/ok', { host: 'orders' });
      expect(res.status).to.equal(200);
    }
    await delay(10);
  });
});
