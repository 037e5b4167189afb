import { createServer as createHttp1Server, type IncomingMessage, type Server as Http1Server, type ServerResponse } from 'node:http';
import { createServer as createH2Server, type Http2Server, type ServerHttp2Session } from 'node:http2';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { HEADERS } from '@weft/api';
import type { ProxyListener } from '../listener';
import type { Downstream } from './downstream';
import { http1Downstream } from './downstream-h1';
import { h2Downstream } from './downstream-h2';
import { upgradeDownstream, rawHead } from './upgrade';

/** What a listener tolerates from clients; slow or oversized requests are cut off. */
export interface ListenerLimits {
  /** Time for a request's headers to arrive, and for a new connection's first bytes (slow-loris). */
  readonly headersTimeoutMs: number;
  /** Time for a whole HTTP/1.1 request to arrive; 0 for none (uploads and streams of any length). */
  readonly requestTimeoutMs: number;
  /** Request header bytes accepted; more is answered 431 (HTTP/1.1) or refused (HTTP/2). */
  readonly maxHeaderBytes: number;
}

export const LISTENER_LIMITS: ListenerLimits = Object.freeze({ headersTimeoutMs: 10_000, requestTimeoutMs: 0, maxHeaderBytes: 32 * 1024 });

export interface MuxListenerOptions {
  readonly limits: ListenerLimits;
  /** Every HTTP request, whatever carried it. */
  readonly handler: (d: Downstream) => void;
  /** Each new connection: tell its protocol, then serveHttp1 / serveH2 / track it, or destroy it. */
  readonly accept: (socket: Socket, listener: MuxListener) => void;
  /** Releases what the listener's owner holds (pools, subscriptions) once nothing can use it. */
  readonly onClosed: (forced: boolean) => Promise<void>;
}

/**
 * One port, several protocols: a plain TCP server whose connections are told apart (by their
 * first bytes, or TLS ALPN) and handed to an HTTP/1.1 server, an HTTP/2 server, or a raw tunnel.
 * Neither HTTP server listens itself. It counts exchanges in flight and drains on close: stop
 * accepting, `Connection: close` on HTTP/1.1 answers still to come, GOAWAY on HTTP/2 sessions,
 * idle connections closed at once, and whatever is left destroyed after `drainMs`.
 */
export class MuxListener implements ProxyListener {
  readonly #net: NetServer;
  readonly #http1: Http1Server;
  readonly #h2: Http2Server;
  readonly #sockets = new Set<Socket>();
  readonly #sessions = new Set<ServerHttp2Session>();
  readonly #responses = new Set<ServerResponse>();
  readonly #handler: (d: Downstream) => void;
  readonly #onClosed: (forced: boolean) => Promise<void>;
  #active = 0;
  #served = 0;
  #draining = false;
  #closing: Promise<void> | undefined;
  port = 0;

  constructor(options: MuxListenerOptions) {
    const { limits } = options;
    this.#handler = options.handler;
    this.#onClosed = options.onClosed;
    // Half-open like Node's own HTTP server: a client that shuts down its sending side still gets its answer.
    this.#net = createNetServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
      socket.on('error', () => undefined); // whoever takes the socket reports its failures
      options.accept(socket, this);
    });
    this.#http1 = createHttp1Server({
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      maxHeaderSize: limits.maxHeaderBytes,
      // How often Node checks the two timeouts above; its default (30 s) would let a slow client linger.
      connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(limits.headersTimeoutMs / 4))),
    });
    // Node tracks connections (for the timeouts above and closeIdleConnections) from 'listening'
    // on; this server never listens itself, since its connections come from the TCP server.
    this.#http1.emit('listening');
    this.#http1.on('request', (req: IncomingMessage, res: ServerResponse) => this.#exchange(http1Downstream(req, res), res));
    this.#http1.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.#exchange(upgradeDownstream(req, socket, head), undefined));
    this.#http1.on('clientError', answerClientError);
    this.#http1.on('connect', refuseConnect);
    this.#h2 = createH2Server({ settings: { enablePush: false, maxHeaderListSize: limits.maxHeaderBytes } });
    this.#h2.on('session', (session: ServerHttp2Session) => {
      this.#sessions.add(session);
      session.on('error', () => undefined); // its streams carry the failure to their requests
      session.once('close', () => this.#sessions.delete(session));
      if (this.#draining) session.close();
    });
    this.#h2.on('stream', (stream, headers) => this.#exchange(h2Downstream(stream, headers), undefined));
  }

  /** Serves a connection (plain or TLS) as HTTP/1.1. */
  serveHttp1(socket: Duplex): void {
    this.#http1.emit('connection', socket);
    socket.resume(); // a sniffed socket was paused with its first bytes put back
  }

  /** Serves a connection (plain h2c, or TLS with ALPN h2) as HTTP/2. */
  serveH2(socket: Duplex): void {
    this.#h2.emit('connection', socket);
  }

  /** Counts a raw tunnel (TCP) as in flight until it settles; draining waits for it. */
  track(tunnel: Promise<unknown>): void {
    this.#active += 1;
    this.#served += 1;
    void tunnel.finally(() => {
      this.#active -= 1;
      if (this.#draining) setImmediate(() => this.#sweep());
    });
  }

  get draining(): boolean {
    return this.#draining;
  }

  listen(port: number, host: string): Promise<this> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.#net.once('error', onError);
      this.#net.listen(port, host, () => {
        this.#net.off('error', onError);
        this.port = (this.#net.address() as AddressInfo).port;
        resolve(this);
      });
    });
  }

  inFlight(): number {
    return this.#active;
  }

  served(): number {
    return this.#served;
  }

  close(drainMs: number): Promise<void> {
    this.#closing ??= this.#drain(drainMs);
    return this.#closing;
  }

  #exchange(d: Downstream, res: ServerResponse | undefined): void {
    this.#active += 1;
    this.#served += 1;
    if (res) {
      this.#responses.add(res);
      if (this.#draining) res.shouldKeepAlive = false;
    }
    d.onClose(() => {
      this.#active -= 1;
      if (res) this.#responses.delete(res);
      // The connection becomes idle just after this; close it then rather than at the deadline.
      if (this.#draining) setImmediate(() => this.#sweep());
    });
    this.#handler(d);
  }

  /**
   * While draining: idle HTTP/1.1 connections close at once, and once no exchange is in flight
   * every connection left goes too. Those carry nothing that began: a peer that said nothing
   * yet, or one stuck in a TLS handshake (a peer that hung up mid-handshake leaves a half-open
   * socket behind, which would otherwise hold the drain until its deadline). Those are ended
   * before they are destroyed, so an answer still in the socket's buffer is sent first.
   */
  #sweep(): void {
    this.#http1.closeIdleConnections();
    for (const socket of this.#sockets) {
      if (socket.bytesRead === 0) socket.destroy(); // said nothing yet
      else if (this.#active === 0) socket.end(() => socket.destroy());
    }
  }

  async #drain(drainMs: number): Promise<void> {
    this.#draining = true;
    for (const res of this.#responses) if (!res.headersSent) res.shouldKeepAlive = false;
    let forced = false;
    const closed = new Promise<void>((resolve) => this.#net.close(() => resolve()));
    this.#http1.closeIdleConnections();
    for (const session of this.#sessions) session.close(); // GOAWAY: streams in flight finish
    this.#sweep();
    const timer = setTimeout(() => {
      forced = true;
      for (const session of this.#sessions) session.destroy();
      this.#http1.closeAllConnections();
      // Sockets in a TLS handshake or a tunnel are no HTTP connections; they go too.
      for (const socket of this.#sockets) socket.destroy();
    }, Math.max(0, drainMs));
    await closed;
    clearTimeout(timer);
    this.#http1.close(() => undefined); // stops Node's connection checks; it never listened
    await this.#onClosed(forced);
  }
}

/**
 * Bytes Node cannot parse as an HTTP/1.1 request get an answer, never a crash: 431 for headers
 * over the limit, 408 for a request that took too long, 400 for anything malformed (including
 * conflicting Content-Length and Transfer-Encoding, a request-smuggling vector).
 */
function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  // A response already under way cannot be replaced by an error (Node's own handler checks the same).
  const inProgress = (socket as { _httpMessage?: ServerResponse })._httpMessage?.headersSent === true;
  if (!socket.writable || inProgress || err.code === 'ECONNRESET') {
    socket.destroy();
    return;
  }
  const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  socket.end(rawHead(status, { [HEADERS.error]: 'WEFT_ERR_BAD_REQUEST', 'content-length': '0', connection: 'close' }));
}

/** CONNECT (HTTPS through a proxy) cannot be routed: the sidecar must see requests to route them. */
function refuseConnect(_req: IncomingMessage, socket: Duplex): void {
  const body = 'CONNECT is not supported: call http://<service>; the sidecar encrypts the hop with mTLS\n';
  socket.on('error', () => undefined);
  socket.end(
    `${rawHead(405, { [HEADERS.error]: 'WEFT_ERR_BAD_REQUEST', 'content-type': 'text/plain', 'content-length': String(Buffer.byteLength(body)), connection: 'close' })}${body}`,
  );
}
