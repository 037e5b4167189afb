import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Readable } from 'node:stream';
import { expect } from 'chai';
import { Pool } from 'undici';
import { waitFor } from '@weft/harness';
import type { Destination } from '../../src/config/types';
import { Cancel } from '../../src/layers/cancel';
import { endpointClient } from '../../src/outbound/endpoint/client';
import { CANCEL_DRAIN } from '../../src/http/response-drain';
import { closeServer, listen } from '../scenarios/mesh-fixture';
import { record } from '../layers/fakes';
import type { HttpDispatcher } from '../../src/http/dispatch-response';
import { plainPool } from '../http1/pool-fixture';

type Closable = HttpDispatcher & { destroy(): Promise<void> };

/** One connection each, so that whether it survived is plain to see: Weft's pool to peer sidecars, undici's to the local app. */
const POOLS: [string, (port: number) => Closable][] = [
  ['H1Pool', (port) => plainPool(port, { maxConnections: 1 })],
  ['undici Pool', (port) => new Pool(`http://127.0.0.1:${port}`, { connections: 1 })],
];

/**
 * What a cancelled request does to its pooled HTTP/1.1 connection (http/dispatch-response.ts,
 * http/response-drain.ts): a request dropped while it waits for a connection, or whose answer is
 * small and near, leaves the connection in the pool; a long, streaming or late answer closes it.
 */
for (const [poolName, makePool] of POOLS) describe(`http/response-drain: a cancelled request and its connection (${poolName})`, function () {
  this.timeout(10_000);
  const dest: Destination = { key: 'orders.default', service: 'orders', namespace: 'default', spiffeId: 'spiffe://x' };
  let server: Server;
  let address: string;
  /** Every connection the server accepted, in order. */
  let sockets: Socket[];
  /** Each request's response once the server is done with it: 'finish' (answered whole) or 'close' (cut). */
  let outcomes: Map<string, Promise<'finish' | 'close'>>;
  /** What to do when a request for a path reaches the server (see cancelOnArrival). */
  let arrivals: Map<string, () => void>;
  let pool: Closable;

  const routes: Record<string, (req: IncomingMessage, res: ServerResponse) => void> = {
    '/soon': (_req, res) => void setTimeout(() => res.end('small and near'), 80),
    '/stream': (_req, res) => {
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        const tick = setInterval(() => res.write('data: tick\n\n'), 10);
        res.on('close', () => clearInterval(tick));
      }, 80);
    },
    '/large': (_req, res) => {
      setTimeout(() => {
        res.writeHead(200, { 'content-length': String(CANCEL_DRAIN.maxBytes * 16) });
        res.write(Buffer.alloc(1024));
      }, 80);
    },
    '/hang': () => undefined,
  };

  beforeEach(async () => {
    sockets = [];
    outcomes = new Map();
    arrivals = new Map();
    server = await listen(
      createServer((req, res) => {
        const path = req.url ?? '';
        outcomes.set(path, new Promise((resolve) => {
          res.on('finish', () => resolve('finish'));
          res.on('close', () => resolve(res.writableFinished ? 'finish' : 'close'));
        }));
        arrivals.get(path)?.();
        (routes[path] ?? ((_q, r) => r.end(`ok ${path}`)))(req, res);
      }),
    );
    server.on('connection', (s: Socket) => sockets.push(s));
    address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    pool = makePool((server.address() as AddressInfo).port);
  });
  afterEach(async () => {
    await pool.destroy();
    await closeServer(server);
  });

  const client = () => endpointClient(dest, { get: () => pool });
  const req = (target: string, cancel = new Cancel()) => ({
    method: 'GET',
    target,
    headers: { host: 'orders' },
    body: null,
    signal: cancel,
    record: record(),
    endpoint: { address, proxyId: 'p', labels: {} },
  });
  /** How the server's response to `path` ended, once the request has reached the server. */
  const outcome = async (path: string): Promise<'finish' | 'close'> => waitFor(`${path} at the server`, () => outcomes.get(path), 5000);
  const cancelAfter = (ms: number): Cancel => {
    const cancel = new Cancel();
    setTimeout(() => cancel.abort(new Error('client left')), ms);
    return cancel;
  };
  /**
   * The caller leaves once its request is at the server, whose answer is then still to come. Not
   * a timer: on a loaded machine the request could still be on its way when one fired.
   */
  const cancelOnArrival = (path: string): Cancel => {
    const cancel = new Cancel();
    arrivals.set(path, () => cancel.abort(new Error('client left')));
    return cancel;
  };

  it('rejects at once with the reason, drains a small answer that follows, and keeps the connection', async () => {
    expect(String((await client()(req('/first'))).body)).to.equal('ok /first');
    const err = (await client()(req('/soon', cancelOnArrival('/soon'))).catch((e: unknown) => e)) as Error;
    expect(err.message).to.equal('client left');
    expect(await outcome('/soon'), 'the answer was still pending when the caller got its error').to.equal('finish');
    expect(String((await client()(req('/after'))).body)).to.equal('ok /after');
    expect(sockets.length, 'one connection for all three requests').to.equal(1);
  });

  it('drops a request cancelled while it waits for the connection without closing it', async () => {
    const first = client()(req('/soon'));
    const queued = client()(req('/queued', cancelAfter(20)));
    expect(((await queued.catch((e: unknown) => e)) as Error).message).to.equal('client left');
    expect(String((await first).body)).to.equal('small and near');
    expect(String((await client()(req('/after'))).body)).to.equal('ok /after');
    expect(outcomes.has('/queued'), 'the cancelled request never reached the server').to.equal(false);
    expect(sockets.length).to.equal(1);
  });

  for (const path of ['/stream', '/large']) {
    it(`closes the connection when the answer turns out ${path === '/stream' ? 'to stream on' : 'larger than the drain allows'}`, async () => {
      const err = (await client()(req(path, cancelOnArrival(path))).catch((e: unknown) => e)) as Error;
      expect(err.message).to.equal('client left');
      expect(await outcome(path), 'the server sees the request cut').to.equal('close');
      expect(String((await client()(req('/after'))).body)).to.equal('ok /after');
      expect(sockets.length, 'a new connection after the cut').to.equal(2);
    });
  }

  it('closes the connection when no answer comes within the drain time', async () => {
    const err = (await client()(req('/hang', cancelOnArrival('/hang'))).catch((e: unknown) => e)) as Error;
    expect(err.message).to.equal('client left');
    expect(await outcome('/hang')).to.equal('close');
    await waitFor('the connection to close', () => sockets[0]?.destroyed, 5000);
  });

  it('still cuts a request whose body was streaming from the caller', async () => {
    const body = new Readable({ read: () => undefined });
    body.push('part');
    const cancel = cancelOnArrival('/soon');
    const err = (await client()({ ...req('/soon', cancel), method: 'POST', body }).catch((e: unknown) => e)) as Error;
    expect(err.message).to.equal('client left');
    expect(await outcome('/soon')).to.equal('close');
  });

  it('leaves nothing to drain once the answer is in: a later cancel changes nothing', async () => {
    const cancel = new Cancel();
    const res = await client()(req('/done', cancel));
    cancel.abort(new Error('client left'));
    expect(String(res.body)).to.equal('ok /done');
    expect(String((await client()(req('/after'))).body)).to.equal('ok /after');
    expect(sockets.length).to.equal(1);
  });
});
