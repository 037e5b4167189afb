import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { httpRequest } from '../src/http-client';
import { Mesh, weftctl } from '../src/mesh';

interface Seen {
  readonly host: string | undefined;
  readonly traceparent: string | undefined;
  readonly path: string | undefined;
}

/** Plays the app's sidecar outbound listener: records what the app sent, answers like a service. */
async function fakeOutbound(): Promise<{ port: number; seen: Seen[]; close(): Promise<void> }> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    const header = req.headers['traceparent'];
    seen.push({ host: req.headers.host, traceparent: typeof header === 'string' ? header : undefined, path: req.url });
    res.writeHead(200, { 'content-type': 'application/json', 'x-weft-attempts': '2' });
    res.end(JSON.stringify({ service: req.headers.host, version: 'v2' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('sample-service (deploy/examples/apps)', () => {
  const mesh = new Mesh();
  after(() => mesh.close());

  it('answers with its name, version and the peer identity header', async () => {
    const app = await mesh.startApp({ name: 'inventory', version: 'v2' });
    const res = await httpRequest({ port: app.port, headers: { 'x-weft-peer-identity': 'spiffe://weft.local/ns/default/sa/orders' } });
    expect(res.status).to.equal(200);
    expect(JSON.parse(res.body)).to.deep.equal({ service: 'inventory', version: 'v2', peer: 'spiffe://weft.local/ns/default/sa/orders', downstream: [] });
  });

  it('calls downstream services through the outbound port with Host and the incoming traceparent', async () => {
    const outbound = await fakeOutbound();
    try {
      const app = await mesh.startApp({ name: 'orders', call: ['inventory', 'audit'], outboundPort: outbound.port });
      const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
      const res = await httpRequest({ port: app.port, path: '/orders/7', headers: { traceparent } });
      const body = JSON.parse(res.body) as { downstream: unknown[] };
      expect(res.status).to.equal(200);
      expect(body.downstream).to.deep.equal([
        { service: 'inventory', status: 200, attempts: 2, body: { service: 'inventory', version: 'v2' } },
        { service: 'audit', status: 200, attempts: 2, body: { service: 'audit', version: 'v2' } },
      ]);
      expect(outbound.seen.map((s) => s.host).sort()).to.deep.equal(['audit', 'inventory']);
      expect(outbound.seen.every((s) => s.traceparent === traceparent && s.path === '/orders/7')).to.equal(true);
    } finally {
      await outbound.close();
    }
  });

  it('fails the first N requests with 503 when asked (--fail-first)', async () => {
    const app = await mesh.startApp({ name: 'flaky', failFirst: 2 });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await httpRequest({ port: app.port })).status);
    expect(statuses).to.deep.equal([503, 503, 200, 200]);
  });

  it('answers 502 when a downstream call fails, saying which', async () => {
    const app = await mesh.startApp({ name: 'frontend', call: ['orders'], outboundPort: 1 });
    const res = await httpRequest({ port: app.port });
    const body = JSON.parse(res.body) as { downstream: { service: string; status: number }[] };
    expect(res.status).to.equal(502);
    expect(body.downstream[0]).to.include({ service: 'orders', status: 0 });
  });
});

describe('weftctl helper', () => {
  it('runs the real CLI binary and returns its exit code and output', async () => {
    const result = await weftctl(['get', 'routes'], { config: '/nonexistent/weftctl.json' });
    expect(result.code).to.equal(1);
    expect(result.stdout).to.equal('');
    expect(result.stderr).to.include('cannot read the weftctl configuration /nonexistent/weftctl.json (from --config)');
  });
});
