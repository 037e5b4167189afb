import { Agent } from 'node:http';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { expect } from 'chai';
import type { CompiledConfig } from '../../src/config/types';
import { Cancel } from '../../src/layers/cancel';
import { H1Server } from '../../src/listen/h1-server';
import { LISTENER_LIMITS } from '../../src/listen/mux-listener';
import { UpstreamTimeoutError } from '../../src/layers/errors';
import type { ProxyResponse } from '../../src/layers/service';
import { acceptOutbound } from '../../src/outbound/accept';
import type { OutboundRequest } from '../../src/outbound/types';
import { TelemetryEvents, type WeftEvents } from '../../src/telemetry/events';
import { send } from '../scenarios/mesh-fixture';
import { response } from '../layers/fakes';

describe('outbound/accept (fake next)', () => {
  const config = { version: 'v1' } as unknown as CompiledConfig; // accept only hands it on
  const holder: { current: CompiledConfig | undefined } = { current: config };
  let next: (req: OutboundRequest) => Promise<ProxyResponse> = async () => response(200);
  const seen: OutboundRequest[] = [];
  const ended: WeftEvents['weft:request-end'][] = [];
  const events = new TelemetryEvents();
  events.on('weft:request-end', (e) => ended.push(e));
  let server: Server;
  let port: number;
  const agent = new Agent({ keepAlive: false });

  before(async () => {
    const handler = acceptOutbound({ config: holder, source: 'frontend.default', events }, (req) => {
      seen.push(req);
      return next(req);
    });
    const h1 = new H1Server({ limits: LISTENER_LIMITS, serve: (d) => handler(d, new Cancel()), serveUpgrade: (d) => handler(d, new Cancel()), onTimeout: () => undefined });
    server = createServer((socket) => h1.accept(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('hands on a clean request with the config read once', async () => {
    next = async () => response(200, 'ok');
    const res = await send(agent, port, '/a?b=1', { host: 'Orders:80', headers: { 'x-weft-peer-identity': 'forged', connection: 'x-hop', 'x-hop': '1', 'x-keep': 'yes' } });
    expect(res.status).to.equal(200);
    const req = seen.at(-1);
    expect(req).to.deep.include({ method: 'GET', target: '/a?b=1', path: '/a', authority: 'orders', body: null, config });
    expect(req?.headers).to.include({ host: 'orders:80', 'x-keep': 'yes' });
    expect(req?.headers).to.not.have.any.keys('x-weft-peer-identity', 'x-hop', 'connection');
    await new Promise((r) => setImmediate(r));
    expect(ended.at(-1)?.record).to.deep.include({ direction: 'outbound', source: 'frontend.default', status: 200, path: '/a' });
  });

  it('renders a ProxyError with its status, code and message, and the attempts it took', async () => {
    next = async (req) => {
      req.record.attempts = 3;
      throw new UpstreamTimeoutError('orders.default', 'orders/0', 100, 'response headers');
    };
    const res = await send(agent, port, '/', { host: 'orders' });
    expect(res.status).to.equal(504);
    expect(res.headers['x-weft-error']).to.equal('WEFT_ERR_UPSTREAM_TIMEOUT');
    expect(res.headers['x-weft-attempts']).to.equal('3');
    expect(res.text()).to.contain('did not answer within 100ms');
  });

  it('turns an unexpected failure into a 500, never a crash', async () => {
    next = async () => {
      throw new TypeError('bug');
    };
    const res = await send(agent, port, '/', { host: 'orders' });
    expect(res.status).to.equal(500);
    expect(res.headers['x-weft-error']).to.equal('WEFT_ERR_INTERNAL');
  });

  it('answers 503 WEFT_ERR_NOT_READY before the first config', async () => {
    holder.current = undefined;
    const res = await send(agent, port, '/', { host: 'orders' });
    holder.current = config;
    expect(res.status).to.equal(503);
    expect(res.headers['x-weft-error']).to.equal('WEFT_ERR_NOT_READY');
  });

  it('answers an error even while the request body is still unread', async () => {
    next = async () => {
      throw new UpstreamTimeoutError('orders.default', 'orders/0', 1, 'connect');
    };
    const res = await send(agent, port, '/', { host: 'orders', method: 'POST', body: Buffer.alloc(1024 * 1024) });
    expect(res.status).to.equal(504);
  });
});
