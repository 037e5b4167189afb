import { HEADERS } from '@weft/api';
import { expect } from 'chai';
import { delay, resource, TestMesh, type Caller, type Instance } from './mesh-fixture';

describe('scenario: local rate limit at the destination', function () {
  this.timeout(20_000);
  let mesh: TestMesh;
  let frontend: Caller;
  let orders: Instance;
  let served = 0;

  before(async () => {
    mesh = new TestMesh();
    orders = await mesh.addInstance('orders', (_req, res) => {
      served += 1;
      res.end('ok');
    });
    mesh.setResources([resource('ServicePolicy', 'orders', { service: 'orders', rateLimit: { requestsPerSecond: 2, burst: 3 } })]);
    frontend = await mesh.addCaller('frontend');
    mesh.push(); // the instance compiled its config before the policy existed
  });
  after(() => mesh.close());

  it('lets the burst through, then answers 429 with retry-after without reaching the app', async () => {
    const results = [];
    for (let i = 0; i < 6; i++) results.push(await frontend.send('/orders', { host: 'orders' }));
    expect(results.map((r) => r.status)).to.deep.equal([200, 200, 200, 429, 429, 429]);
    const limited = results[3];
    expect(limited?.headers['retry-after']).to.equal('1');
    expect(limited?.headers[HEADERS.error]).to.equal('WEFT_ERR_RATE_LIMITED');
    expect(limited?.text()).to.contain('2 requests per second').and.contain('ServicePolicy "orders"');
    expect(served).to.equal(3);
    expect(orders.telemetry.renderMetrics()).to.contain('weft_rate_limited_total{destination="orders.default",source="frontend.default"} 3');
  });

  it('lets requests in again as the bucket refills', async () => {
    await delay(600); // one token per 500 ms
    expect((await frontend.send('/orders', { host: 'orders' })).status).to.equal(200);
    expect((await frontend.send('/orders', { host: 'orders' })).status).to.equal(429);
  });

  it('lifts the limit when the ServicePolicy drops it', async () => {
    mesh.setResources([resource('ServicePolicy', 'orders', { service: 'orders' })]);
    mesh.push();
    for (let i = 0; i < 10; i++) expect((await frontend.send('/orders', { host: 'orders' })).status).to.equal(200);
  });
});
