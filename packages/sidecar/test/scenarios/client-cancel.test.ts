import { request, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { expect } from 'chai';
import { waitFor } from '@weft/harness';
import { TestMesh, type Caller, type Instance } from './mesh-fixture';

/**
 * A client that leaves with its request in flight, through a real caller sidecar, mTLS and a
 * real inbound sidecar. A small answer that comes soon is drained on the way: the pooled
 * connections (sidecar to sidecar, sidecar to app) stay up for the next request. A streaming
 * answer is cut, and the app sees its request end, as before.
 */
describe('scenario: a client leaves with its request in flight', function () {
  this.timeout(20_000);
  let mesh: TestMesh;
  let orders: Instance;
  let frontend: Caller;
  const appConnections: Socket[] = [];
  const ends = new Map<string, Promise<'finish' | 'close'>>();

  before(async () => {
    mesh = new TestMesh();
    orders = await mesh.addInstance('orders', (req, res: ServerResponse) => {
      const path = req.url ?? '';
      ends.set(path, new Promise((resolve) => res.on('close', () => resolve(res.writableFinished ? 'finish' : 'close'))));
      if (path.startsWith('/soon')) setTimeout(() => res.end('small and near'), 100);
      else if (path.startsWith('/stream')) {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        const tick = setInterval(() => res.write('data: tick\n\n'), 10);
        res.on('close', () => clearInterval(tick));
      } else res.end('ok');
    });
    orders.app.on('connection', (s: Socket) => appConnections.push(s));
    frontend = await mesh.addCaller('frontend');
  });
  after(() => mesh.close());

  /** Sends a request through the caller sidecar on a connection of its own, and closes that connection after `ms`. */
  const leaveAfter = (path: string, ms: number): Promise<void> =>
    new Promise((resolve) => {
      const req = request({ host: '127.0.0.1', port: frontend.outbound.port, path, headers: { host: 'orders' }, agent: false });
      req.on('error', () => resolve());
      req.on('close', () => resolve());
      req.end();
      setTimeout(() => req.destroy(), ms);
    });
  const endOf = (path: string): Promise<'finish' | 'close'> => waitFor(`${path} at the app`, () => ends.get(path), 5000).then((end) => end);

  it('drains a small answer that was on its way and keeps the connections for the next request', async () => {
    expect((await frontend.send('/warm', { host: 'orders' })).text()).to.equal('ok');
    const before = appConnections.length;
    await leaveAfter('/soon', 30);
    expect(await endOf('/soon'), 'the app answered whole: nobody cut its request').to.equal('finish');
    expect((await frontend.send('/next', { host: 'orders' })).text()).to.equal('ok');
    expect(appConnections.length, 'no new connection to the app').to.equal(before);
  });

  it('cuts a streaming answer whose client left: the app sees its request end', async () => {
    await leaveAfter('/stream', 50);
    expect(await endOf('/stream')).to.equal('close');
  });
});
