import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { text } from 'node:stream/consumers';
import { expect } from 'chai';
import { Pool } from 'undici';
import type { Destination } from '../../src/config/types';
import { ConnectError, UpstreamResetError } from '../../src/layers/errors';
import { endpointClient } from '../../src/outbound/endpoint/client';
import { closeServer, listen } from '../scenarios/mesh-fixture';
import { neverAborted, record } from '../layers/fakes';

describe('outbound/endpoint/client (plain HTTP pool standing in for mTLS)', () => {
  const dest: Destination = { key: 'orders.default', service: 'orders', namespace: 'default', spiffeId: 'spiffe://x' };
  let server: Server;
  let pool: Pool;
  let address: string;

  before(async () => {
    server = await listen(
      createServer((req, res) => {
        if (req.url === '/reset') return void req.socket.destroy();
        if (req.url === '/hang') return;
        req.resume();
        req.on('end', () => res.end(`${req.method} ${req.url} ${req.headers['x-a'] ?? ''}`));
      }),
    );
    address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    pool = new Pool(`http://${address}`);
  });
  after(async () => {
    await pool.destroy();
    await closeServer(server);
  });

  const client = () => endpointClient(dest, { get: () => pool });
  const req = (target: string, signal = neverAborted()) => ({
    method: 'POST',
    target,
    headers: { host: 'orders', 'x-a': '1' },
    body: Buffer.from('hi'),
    signal,
    record: record(),
    endpoint: { address, proxyId: 'p', labels: {} },
  });

  it('resolves at the response headers and streams the body', async () => {
    const r = req('/ok');
    const res = await client()(r);
    expect(res.status).to.equal(200);
    expect(await text(res.body as NodeJS.ReadableStream)).to.equal('POST /ok 1');
    expect(r.record.phase).to.equal('response headers');
  });

  it('classifies a reset after the request was sent', async () => {
    const err = await client()(req('/reset')).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(UpstreamResetError);
  });

  it('classifies a refused connection as a connect failure', async () => {
    const dead = new Pool('http://127.0.0.1:1');
    const err = await endpointClient(dest, { get: () => dead })({ ...req('/x'), endpoint: { address: '127.0.0.1:1', proxyId: 'p', labels: {} } }).catch((e: unknown) => e);
    await dead.destroy();
    expect(err).to.be.instanceOf(ConnectError);
    expect((err as Error).message).to.contain('127.0.0.1:1').and.contain('ECONNREFUSED');
  });

  it('rejects with the abort reason when the signal aborts', async () => {
    const c = new AbortController();
    const p = client()(req('/hang', c.signal));
    setTimeout(() => c.abort(new Error('deadline')), 20);
    expect(((await p.catch((e: unknown) => e)) as Error).message).to.equal('deadline');
  });
});
