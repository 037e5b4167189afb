import { HEADERS } from '@weft/api';
import { expect } from 'chai';
import { delay, TestMesh, type Caller, type Instance } from './mesh-fixture';

describe('scenario: draining listeners', function () {
  this.timeout(20_000);
  let mesh: TestMesh;
  let frontend: Caller;
  let orders: Instance;

  beforeEach(async () => {
    mesh = new TestMesh();
    orders = await mesh.addInstance('orders', (req, res) => {
      setTimeout(() => res.end('done'), req.url === '/slow' ? 300 : 0);
    });
    frontend = await mesh.addCaller('frontend');
  });
  afterEach(() => mesh.close());

  it('outbound close(drain) waits for an in-flight request, then closes', async () => {
    const slow = frontend.send('/slow', { host: 'orders' });
    await delay(50);
    expect(frontend.outbound.inFlight()).to.equal(1);
    const started = Date.now();
    const closing = frontend.outbound.close(5000);
    const res = await slow;
    expect(res.status).to.equal(200);
    expect(res.text()).to.equal('done');
    expect(res.headers['connection']).to.equal('close');
    await closing;
    expect(Date.now() - started).to.be.within(150, 2000);
    expect(frontend.outbound.inFlight()).to.equal(0);
    // Nothing listens any more.
    const refused = await frontend.send('/', { host: 'orders' }).then(
      () => 'answered',
      (err: Error) => err.message,
    );
    expect(refused).to.match(/ECONNREFUSED|socket hang up|ECONNRESET/);
  });

  it('inbound close(drain) lets the request finish; a request after it cannot reach the instance', async () => {
    const slow = frontend.send('/slow', { host: 'orders' });
    await delay(50);
    expect(orders.inbound.inFlight()).to.equal(1);
    const closing = orders.inbound.close(5000);
    expect((await slow).status).to.equal(200);
    await closing;
    const after = await frontend.send('/', { host: 'orders' });
    expect(after.status).to.equal(503);
    expect(after.headers[HEADERS.error]).to.equal('WEFT_ERR_CONNECT');
  });

  it('force-closes what is still running when the drain time is up', async () => {
    const slow = frontend.send('/slow', { host: 'orders' }).then(
      (r) => `status ${r.status}`,
      (err: Error) => `error ${err.message}`,
    );
    await delay(50);
    const started = Date.now();
    await frontend.outbound.close(50);
    expect(Date.now() - started).to.be.below(250);
    expect(await slow).to.match(/^error /);
  });
});
