import { HEADERS } from '@weft/api';
import { expect } from 'chai';
import { closeServer, TestMesh, type Caller } from './mesh-fixture';

describe('scenario: the local app behind the inbound sidecar', function () {
  this.timeout(20_000);
  let mesh: TestMesh;
  let frontend: Caller;

  before(async () => {
    mesh = new TestMesh();
    const orders = await mesh.addInstance('orders', (_req, res) => res.end('ok'));
    // The app goes away; its sidecar stays.
    await closeServer(orders.app);
    await mesh.addInstance('inventory', (_req, res) => {
      res.setHeader(HEADERS.peerIdentity, 'spiffe://weft.local/ns/default/sa/forged');
      res.setHeader('connection', 'keep-alive, x-secret');
      res.setHeader('x-secret', 'hop');
      res.end('inventory');
    });
    frontend = await mesh.addCaller('frontend');
  });
  after(() => mesh.close());

  it('answers 502 with a clear body when the app is down', async () => {
    const res = await frontend.send('/', { host: 'orders' });
    expect(res.status).to.equal(502);
    expect(res.headers[HEADERS.error]).to.equal('WEFT_ERR_APP_UNAVAILABLE');
    expect(res.text()).to.contain('local app at 127.0.0.1:').and.contain('--app-port');
  });

  it('strips hop-by-hop and mesh headers from what the app answers', async () => {
    const res = await frontend.send('/', { host: 'inventory' });
    expect(res.text()).to.equal('inventory');
    expect(res.headers[HEADERS.peerIdentity]).to.equal(undefined);
    expect(res.headers['x-secret']).to.equal(undefined);
  });

  it('answers malformed requests with 4xx and keeps running', async () => {
    const { port } = frontend.outbound;
    const raw = async (text: string): Promise<string> => {
      const net = await import('node:net');
      return new Promise((resolve) => {
        const socket = net.connect(port, '127.0.0.1', () => socket.write(text));
        let data = '';
        socket.on('data', (d: Buffer) => (data += d.toString()));
        socket.on('close', () => resolve(data));
        socket.on('error', () => resolve(data));
        setTimeout(() => socket.end(), 300);
      });
    };
    expect(await raw('GARBAGE\r\n\r\n')).to.match(/^HTTP\/1\.1 400/);
    expect(await raw('GET / HTTP/1.1\r\n\r\n')).to.match(/^HTTP\/1\.1 400/); // no Host
    expect(await raw('GET https://orders/ HTTP/1.1\r\nhost: orders\r\n\r\n')).to.match(/^HTTP\/1\.1 400/);
    expect(await raw('CONNECT orders:443 HTTP/1.1\r\nhost: orders:443\r\n\r\n')).to.match(/^HTTP\/1\.1 405/);
    expect(await raw('GET / HTTP/1.1\r\nhost: bad_host!\r\n\r\n')).to.match(/^HTTP\/1\.1 400/);
    expect((await frontend.send('/', { host: 'inventory' })).status).to.equal(200);
  });
});
