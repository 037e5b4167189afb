import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { text } from 'node:stream/consumers';
import { expect } from 'chai';
import { Pool } from 'undici';
import type { HttpDispatcher } from '../../src/http/dispatch-response';
import type { Destination } from '../../src/config/types';
import { BadRequestError, ConnectError, UpstreamResetError } from '../../src/layers/errors';
import { endpointClient } from '../../src/outbound/endpoint/client';
import { closeServer, listen } from '../scenarios/mesh-fixture';
import { neverAborted, record } from '../layers/fakes';
import { plainPool } from '../http1/pool-fixture';

type Closable = HttpDispatcher & { destroy(): Promise<void> };

/** The pools the client is driven through: Weft's own to peer sidecars, and undici's (to the local app). */
const POOLS: [string, (address: string) => Closable][] = [
  ['H1Pool', (address) => plainPool(Number(address.slice(address.lastIndexOf(':') + 1)))],
  ['undici Pool', (address) => new Pool(`http://${address}`)],
];

for (const [poolName, makePool] of POOLS) describe(`outbound/endpoint/client over ${poolName} (plain HTTP standing in for mTLS)`, () => {
  const dest: Destination = { key: 'orders.default', service: 'orders', namespace: 'default', spiffeId: 'spiffe://x' };
  let server: Server;
  let pool: Closable;
  let address: string;
  let later: ServerResponse | undefined;

  before(async () => {
    server = await listen(
      createServer((req, res) => {
        if (req.url === '/reset') return void req.socket.destroy();
        if (req.url === '/hang') return;
        if (req.url === '/trailers') {
          res.writeHead(200, { trailer: 'x-sum' });
          res.write('with ');
          setTimeout(() => {
            res.addTrailers({ 'x-sum': '42' });
            res.end('trailers');
          }, 20);
          return;
        }
        if (req.url === '/later') {
          // Headers now, the body only when the test says so: the client must stream it.
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.flushHeaders();
          later = res;
          return;
        }
        req.resume();
        req.on('end', () => res.end(`${req.method} ${req.url} ${req.headers['x-a'] ?? ''}`));
      }),
    );
    address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    pool = makePool(address);
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

  it('hands up a small answer that arrived whole as a Buffer: no stream', async () => {
    const r = req('/ok');
    const res = await client()(r);
    expect(res.status).to.equal(200);
    expect(Buffer.isBuffer(res.body), 'a whole body is a Buffer').to.equal(true);
    expect(String(res.body)).to.equal('POST /ok 1');
    expect(r.record.phase).to.equal('response headers');
  });

  it('resolves at the response headers and streams a body that comes later, trailers-capable', async () => {
    const res = await client()(req('/later'));
    expect(res.status).to.equal(200);
    expect(Buffer.isBuffer(res.body), 'a body still on its way is a stream').to.equal(false);
    expect(res.trailers, 'a chunked answer can carry trailers').to.be.a('function');
    later?.write('first ');
    setTimeout(() => later?.end('second'), 20);
    expect(await text(res.body as NodeJS.ReadableStream)).to.equal('first second');
  });

  it('hands a chunked answer\'s trailers up once its body was read', async () => {
    const res = await client()(req('/trailers'));
    expect(await text(res.body as NodeJS.ReadableStream)).to.equal('with trailers');
    expect(res.trailers?.()).to.deep.equal({ 'x-sum': '42' });
  });

  it('fails a request it cannot write (a CR LF in a header value) as a bad request', async () => {
    const err = await client()({ ...req('/ok'), headers: { host: 'orders', 'x-a': 'b\r\nx-b: c' } }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(BadRequestError);
  });

  it('classifies a reset after the request was sent', async () => {
    const err = await client()(req('/reset')).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(UpstreamResetError);
  });

  it('classifies a refused connection as a connect failure', async () => {
    const dead = makePool('127.0.0.1:1');
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
