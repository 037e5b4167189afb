import type { Readable } from 'node:stream';
import { constants, createServer as createH2Server, type Http2Server, type ServerHttp2Session } from 'node:http2';
import { createServer as createNetServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { expect } from 'chai';
import { H2Connection } from '../../src/http/h2-connection';
import { h2Exchange } from '../../src/http/h2-exchange';
import { neverAborted } from '../layers/fakes';

const request = { method: 'GET', target: '/x', headers: { host: 'svc' }, body: null, signal: neverAborted() };

/** The failure h2Exchange reports, with whether the peer may have acted on the request. */
function failure(connection: H2Connection): Promise<{ cause: Error; processed: boolean }> {
  return h2Exchange(connection, request, (cause, processed) => Object.assign(new Error('failed'), { detail: { cause, processed } }), () => undefined).then(
    () => {
      throw new Error('expected a failure');
    },
    (err: { detail: { cause: Error; processed: boolean } }) => err.detail,
  );
}

describe('http/h2-connection and h2-exchange: one multiplexed session per peer', function () {
  this.timeout(10_000);
  let h2: Http2Server;
  let silent: Server;
  const silentSockets = new Set<Socket>();
  const h2Sessions = new Set<ServerHttp2Session>();
  let sessions = 0;
  let mode: 'goaway' | 'refuse' = 'goaway';

  before(async () => {
    h2 = createH2Server();
    h2.on('session', (session) => {
      sessions += 1;
      h2Sessions.add(session);
    });
    h2.on('stream', (stream) => {
      stream.on('error', () => undefined);
      if (mode === 'refuse') return void stream.close(constants.NGHTTP2_REFUSED_STREAM);
      stream.respond({ ':status': 200 });
      stream.end('ok');
      stream.session?.close(); // GOAWAY after every answer, as a draining peer does
    });
    // Accepts connections and never speaks HTTP/2.
    silent = createNetServer((socket) => {
      silentSockets.add(socket.on('error', () => undefined));
    });
    await Promise.all([new Promise<void>((r) => h2.listen(0, '127.0.0.1', r)), new Promise<void>((r) => silent.listen(0, '127.0.0.1', r))]);
  });
  after(async () => {
    for (const socket of silentSockets) socket.destroy();
    for (const session of h2Sessions) session.destroy();
    await Promise.all([new Promise((r) => h2.close(r)), new Promise((r) => silent.close(r))]);
  });

  it('opens a new session after the peer sent GOAWAY, and every request succeeds', async () => {
    const connection = new H2Connection({ authority: `http://127.0.0.1:${(h2.address() as AddressInfo).port}`, connectTimeoutMs: 1000, idleTimeoutMs: 10_000 });
    try {
      sessions = 0;
      for (let i = 0; i < 3; i++) {
        const res = await h2Exchange(connection, request, (cause) => cause, () => undefined);
        expect(res.status).to.equal(200);
        (res.body as Readable | null)?.resume();
        await new Promise((r) => setTimeout(r, 20)); // let the GOAWAY arrive
      }
      expect(sessions).to.equal(3);
    } finally {
      await connection.close(true);
    }
  });

  it('opens another session only when every open one carries as many streams as the peer allows', async () => {
    // A peer that allows two streams per session and keeps every stream open (long-lived gRPC streams).
    const held = createH2Server({ settings: { maxConcurrentStreams: 2 } });
    const heldSessions = new Set<ServerHttp2Session>();
    held.on('session', (session) => heldSessions.add(session));
    held.on('stream', (stream) => {
      stream.on('error', () => undefined);
      stream.respond({ ':status': 200 });
    });
    await new Promise<void>((r) => held.listen(0, '127.0.0.1', r));
    const connection = new H2Connection({ authority: `http://127.0.0.1:${(held.address() as AddressInfo).port}`, connectTimeoutMs: 1000, idleTimeoutMs: 10_000 });
    try {
      // The first answer means the peer's SETTINGS are in; until then Node assumes no limit.
      const first = await h2Exchange(connection, request, (cause) => cause, () => undefined);
      const rest = await Promise.all([1, 2, 3, 4].map(() => h2Exchange(connection, request, (cause) => cause, () => undefined)));
      expect([first, ...rest].map((r) => r.status)).to.deep.equal([200, 200, 200, 200, 200]);
      expect([heldSessions.size, connection.size]).to.deep.equal([3, 3]);
      // A stream that ends frees its slot: the next request goes on an open session, not a new one.
      (first.body as NodeJS.ReadableStream & { destroy(): void }).destroy();
      await new Promise((r) => setTimeout(r, 50));
      expect((await h2Exchange(connection, request, (cause) => cause, () => undefined)).status).to.equal(200);
      expect(heldSessions.size).to.equal(3);
    } finally {
      await connection.close(true);
      for (const session of heldSessions) session.destroy();
      await new Promise((r) => held.close(r));
    }
  });

  it('reports a refused stream as not processed (safe to retry, whatever the method)', async () => {
    mode = 'refuse';
    const connection = new H2Connection({ authority: `http://127.0.0.1:${(h2.address() as AddressInfo).port}`, connectTimeoutMs: 1000, idleTimeoutMs: 10_000 });
    try {
      expect((await failure(connection)).processed).to.equal(false);
    } finally {
      mode = 'goaway';
      await connection.close(true);
    }
  });

  it('gives up on a peer that accepts TCP but never answers HTTP/2, within the connect timeout', async () => {
    const connection = new H2Connection({ authority: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`, connectTimeoutMs: 200, idleTimeoutMs: 10_000 });
    const startedAt = performance.now();
    try {
      const { processed } = await failure(connection);
      expect(processed).to.equal(false);
      expect(performance.now() - startedAt).to.be.within(150, 1_000);
    } finally {
      await connection.close(true);
    }
  });

  it('reports a refused connection as not processed', async () => {
    const connection = new H2Connection({ authority: 'http://127.0.0.1:1', connectTimeoutMs: 1000, idleTimeoutMs: 10_000 });
    try {
      const { cause, processed } = await failure(connection);
      expect(processed).to.equal(false);
      expect((cause as NodeJS.ErrnoException).code).to.equal('ECONNREFUSED');
    } finally {
      await connection.close(true);
    }
  });
});
