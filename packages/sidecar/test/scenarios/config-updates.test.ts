import { expect } from 'chai';
import { delay, resource, TestMesh, type Caller } from './mesh-fixture';

describe('scenario: config updates while requests are in flight', function () {
  this.timeout(20_000);
  let mesh: TestMesh;
  let frontend: Caller;

  before(async () => {
    mesh = new TestMesh();
    await mesh.addInstance('orders', (req, res) => {
      setTimeout(() => res.end(`served ${req.url}`), req.url === '/slow' ? 400 : 0);
    });
    frontend = await mesh.addCaller('frontend');
  });
  after(() => mesh.close());

  it('lets an in-flight request finish on the config it started with', async () => {
    const slow = frontend.send('/slow', { host: 'orders' });
    await delay(100);
    // The new config has no endpoints for orders and a route that would reject /slow.
    mesh.clearEndpoints('orders');
    mesh.setResources([resource('Route', 'orders', { service: 'orders', rules: [{ match: [{ path: { exact: '/other' } }] }] })]);
    mesh.push();
    const fresh = await frontend.send('/fresh', { host: 'orders' });
    expect(fresh.status).to.equal(404);
    const res = await slow;
    expect(res.status).to.equal(200);
    expect(res.text()).to.equal('served /slow');
  });

  it('applies the next config to the next request', async () => {
    mesh.setResources([]);
    const before = frontend.config.current;
    mesh.push();
    expect(frontend.config.current).to.not.equal(before);
    const res = await frontend.send('/x', { host: 'orders' });
    expect(res.status).to.equal(503); // orders has no endpoints now
    expect(res.text()).to.contain('has no ready endpoints');
  });
});
