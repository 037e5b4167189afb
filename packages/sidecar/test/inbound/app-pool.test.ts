import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { expect } from 'chai';
import { AppPool } from '../../src/inbound/app-pool';
import { send } from '../http1/pool-fixture';

/**
 * The hop to the local app (Weft's own HTTP/1.1 pool over TCP since session 9, undici's Pool
 * before): what apps in the wild do to kept-alive connections, against real servers on loopback.
 */
describe('inbound/app-pool', function () {
  this.timeout(10_000);
  const servers: (Server | HttpServer)[] = [];
  const pools: AppPool[] = [];
  afterEach(async () => {
    await Promise.all(pools.splice(0).map((pool) => pool.close()));
    for (const server of servers.splice(0)) {
      if ('closeAllConnections' in server) server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  const listen = async <S extends Server | HttpServer>(server: S): Promise<number> => {
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as AddressInfo).port;
  };
  const pool = (port: number): AppPool => {
    const created = new AppPool({ host: '127.0.0.1', port, keepAliveMs: 60_000, connectTimeoutMs: 1000 });
    pools.push(created);
    return created;
  };

  it('keeps one connection alive across requests to a node:http app', async () => {
    const app = createHttpServer((req, res) => res.end(`hello ${req.url}`));
    let connections = 0;
    app.on('connection', () => (connections += 1));
    const apps = pool(await listen(app));
    for (let i = 0; i < 5; i++) {
      const answer = await send(apps.get(), { path: `/n${i}`, headers: { host: 'orders' } });
      expect(answer.status).to.equal(200);
      expect(answer.text).to.equal(`hello /n${i}`);
    }
    expect(connections).to.equal(1);
  });

  it('opens a new connection after the app closed an idle one, without failing the next request', async () => {
    // node:http with a 100 ms keep-alive sends `Keep-Alive: timeout=0`, i.e. no usable hint, and
    // closes the connection itself about a second later (gunicorn and others close without any
    // hint at all).
    const app = createHttpServer((_req, res) => res.end('ok'));
    app.keepAliveTimeout = 100;
    let closed = 0;
    app.on('connection', (socket: Socket) => socket.on('close', () => (closed += 1)));
    let connections = 0;
    app.on('connection', () => (connections += 1));
    const apps = pool(await listen(app));
    expect((await send(apps.get(), { headers: { host: 'orders' } })).status).to.equal(200);
    for (let i = 0; i < 50 && closed === 0; i++) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(closed, 'the app closed its idle connection').to.equal(1);
    const second = await send(apps.get(), { headers: { host: 'orders' } });
    expect(second.error, 'the second request').to.equal(undefined);
    expect(second.status).to.equal(200);
    expect(connections).to.equal(2);
  });

  it('reads an HTTP/1.0 answer delimited by the close, and does not reuse that connection', async () => {
    let connections = 0;
    const app = createServer((socket: Socket) => {
      connections += 1;
      socket.once('data', () => socket.end('HTTP/1.0 200 OK\r\ncontent-type: text/plain\r\n\r\nuntil the close'));
    });
    const apps = pool(await listen(app));
    const first = await send(apps.get(), { headers: { host: 'orders' } });
    expect([first.status, first.text]).to.deep.equal([200, 'until the close']);
    const second = await send(apps.get(), { headers: { host: 'orders' } });
    expect([second.status, second.text]).to.deep.equal([200, 'until the close']);
    expect(connections).to.equal(2);
  });

  it('fails a request with the cause when the app does not listen', async () => {
    const probe = createServer();
    const port = await listen(probe);
    await new Promise((resolve) => probe.close(resolve));
    servers.splice(servers.indexOf(probe), 1);
    const answer = await send(pool(port).get(), { headers: { host: 'orders' } });
    expect(answer.status).to.equal(0);
    expect((answer.error as NodeJS.ErrnoException | undefined)?.code).to.equal('ECONNREFUSED');
  });

  it('refuses requests once closed', async () => {
    const apps = pool(await listen(createHttpServer((_req, res) => res.end('ok'))));
    expect((await send(apps.get(), { headers: { host: 'orders' } })).status).to.equal(200);
    await apps.close();
    expect(() => apps.get()).to.throw('the connections to the app are closed');
  });
});
