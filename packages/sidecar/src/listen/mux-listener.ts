import { createServer as createH2Server, type Http2Server, type IncomingHttpHeaders, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { tunnelActivity, type CountsBytes, type ProxyListener, type TunnelActivity } from '../listener';
import { BodyIdleWatch, type WatchedBody } from './body-idle';
import { Cancel } from '../layers/cancel';
import type { Downstream, DownstreamHandler } from '../http/downstream';
import { h2Downstream } from '../http/downstream-h2';
import { endedWithin } from '../http/h2-whole-body';
import { guardResets, H2_SESSION_LIMITS, startWhenRead } from './h2-reset-guard';
import { H1Server } from './h1-server';
import { refuseStream, screenH2 } from './request-screen';

/** What a listener tolerates from clients; slow, stalled or oversized requests are cut off. */
export interface ListenerLimits {
  /** Time for a request's headers to arrive, and for a new connection's first bytes (slow-loris). */
  readonly headersTimeoutMs: number;
  /** Time for a whole HTTP/1.1 request to arrive; 0 for none (uploads and streams of any length). */
  readonly requestTimeoutMs: number;
  /**
   * Time a request body may go without a byte arriving before its exchange is cut (408 if no
   * response has started); 0 for none. Idle, not total: an upload that keeps moving is never cut.
   */
  readonly bodyIdleTimeoutMs: number;
  /** Request header bytes accepted; more is answered 431, on HTTP/1.1 and HTTP/2 alike. */
  readonly maxHeaderBytes: number;
  /** Request header fields accepted; more is answered 431, on HTTP/1.1 and HTTP/2 alike. */
  readonly maxHeaderCount: number;
  /**
   * How long an idle HTTP/1.1 keep-alive connection is kept. Long, because a connection closed
   * here is a new TLS handshake for the peer sidecar's next burst (a connection opened per burst
   * was what drove the pair's p99: docs/performance.md); Node's default is 5 s.
   */
  readonly keepAliveTimeoutMs: number;
}

/**
 * Header fields one request may carry, whatever the protocol. Clients send a few dozen; Envoy
 * takes 100 by default. Node's own limits differ by protocol (2,000 lines on HTTP/1.1, dropping
 * the rest silently; 128 on HTTP/2, resetting the stream), so the listener enforces this one.
 */
export const MAX_HEADER_COUNT = 500;

export const LISTENER_LIMITS: ListenerLimits = Object.freeze({
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 0,
  bodyIdleTimeoutMs: 30_000,
  maxHeaderBytes: 32 * 1024,
  maxHeaderCount: MAX_HEADER_COUNT,
  keepAliveTimeoutMs: 65_000,
});

/**
 * How much more than the limits Node's HTTP/2 server takes in (header list bytes and pairs) before
 * it resets a stream without a status: up to there, a request over the limits gets its 431.
 */
const H2_HEADER_HEADROOM = 8;

/** Why a listener cut a client off, as counted in `weft_downstream_timeouts_total`. */
export type ListenerTimeout = 'headers' | 'body_idle';

export interface MuxListenerOptions {
  readonly limits: ListenerLimits;
  /** Every HTTP request, whatever carried it. */
  readonly handler: DownstreamHandler;
  /** Each new connection: tell its protocol, then serveHttp1 / serveH2 / track it, or destroy it. */
  readonly accept: (socket: Socket, listener: MuxListener) => void;
  /** Releases what the listener's owner holds (pools, subscriptions) once nothing can use it. */
  readonly onClosed: (forced: boolean) => Promise<void>;
  /** A client's HTTP/2 session was closed for resetting streams abusively (rapid reset); for metrics. */
  readonly onRapidReset?: () => void;
  /** Each client cut off for being too slow (metrics). */
  readonly onTimeout: (reason: ListenerTimeout) => void;
}

/**
 * One port, several protocols: a plain TCP server whose connections are told apart (by their
 * first bytes, or TLS ALPN) and handed to an HTTP/1.1 server (Weft's own codec), an HTTP/2 server
 * (node:http2), or a raw tunnel.
 * Neither HTTP server listens itself. It counts exchanges in flight and drains on close: stop
 * accepting, `Connection: close` on HTTP/1.1 answers still to come, GOAWAY on HTTP/2 sessions,
 * idle connections closed at once, and whatever is left destroyed after `drainMs`.
 */
export class MuxListener implements ProxyListener {
  readonly #net: NetServer;
  /** HTTP/1.1: Weft's own codec (listen/h1-server.ts). */
  readonly #http1: H1Server;
  readonly #h2: Http2Server;
  readonly #sockets = new Set<Socket>();
  readonly #sessions = new Set<ServerHttp2Session>();
  readonly #handler: DownstreamHandler;
  readonly #bodies: BodyIdleWatch;
  readonly #onClosed: (forced: boolean) => Promise<void>;
  #active = 0;
  #served = 0;
  /** The client sockets of the tunnels in flight (counted in #active too). */
  readonly #tunnels = new Set<CountsBytes>();
  #draining = false;
  #closing: Promise<void> | undefined;
  port = 0;

  constructor(options: MuxListenerOptions) {
    const { limits } = options;
    this.#handler = options.handler;
    this.#onClosed = options.onClosed;
    this.#bodies = new BodyIdleWatch(limits.bodyIdleTimeoutMs, () => options.onTimeout('body_idle'));
    // Half-open like Node's own HTTP server: a client that shuts down its sending side still gets its answer.
    this.#net = createNetServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
      socket.on('error', () => undefined); // whoever takes the socket reports its failures
      options.accept(socket, this);
    });
    this.#http1 = new H1Server({
      limits,
      serve: (d) => {
        const cancel = new Cancel();
        this.#exchange(d, cancel, d.body === null ? undefined : this.#bodies.watch(d.body, d, cancel));
      },
      serveUpgrade: (d) => this.#exchange(d, new Cancel(), undefined),
      onTimeout: options.onTimeout,
    });
    const { maxConcurrentStreams } = H2_SESSION_LIMITS;
    this.#h2 = createH2Server({
      maxHeaderListPairs: limits.maxHeaderCount * H2_HEADER_HEADROOM,
      settings: { enablePush: false, maxHeaderListSize: limits.maxHeaderBytes * H2_HEADER_HEADROOM, maxConcurrentStreams },
    });
    const onRapidReset = options.onRapidReset ?? ((): void => undefined);
    this.#h2.on('session', (session: ServerHttp2Session) => {
      this.#sessions.add(session);
      session.on('error', () => undefined); // its streams carry the failure to their requests
      session.once('close', () => this.#sessions.delete(session));
      guardResets(session, onRapidReset);
      if (this.#draining) session.close();
    });
    this.#h2.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, _flags: number, rawHeaders: string[]) => {
      const refused = screenH2(rawHeaders, limits);
      if (refused) return refuseStream(stream, refused);
      startWhenRead(stream, () => {
        const cancel = new Cancel();
        // A body that arrived whole with the headers (h2-whole-body) has nothing left to stall.
        const whole = stream.endAfterHeaders || endedWithin(stream);
        this.#exchange(h2Downstream(stream, headers), cancel, whole ? undefined : this.#bodies.watch(stream, stream, cancel));
      });
    });
  }

  /**
   * Serves a connection (plain or TLS) as HTTP/1.1, with Weft's own codec (listen/h1-server.ts):
   * apps, peer sidecars and plaintext callers alike. It replaced node:http's server here, whose
   * IncomingMessage, ServerResponse and their streams and ticks per request were most of the
   * listener's cost (docs/performance.md, "The peer hop's own codec").
   */
  serveHttp1(socket: Duplex): void {
    this.#http1.accept(socket);
  }

  /** Serves a connection (plain h2c, or TLS with ALPN h2) as HTTP/2. */
  serveH2(socket: Duplex): void {
    this.#h2.emit('connection', socket);
  }

  /**
   * Counts a raw tunnel (TCP) as in flight until it settles; draining waits for it. `socket` is
   * the client's side of it, whose byte counts say whether it carries anything (see `tunnels`).
   */
  track(tunnel: Promise<unknown>, socket: CountsBytes): void {
    this.#active += 1;
    this.#served += 1;
    this.#tunnels.add(socket);
    void tunnel.finally(() => {
      this.#active -= 1;
      this.#tunnels.delete(socket);
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

  tunnels(): TunnelActivity {
    return tunnelActivity(this.#tunnels);
  }

  close(drainMs: number): Promise<void> {
    this.#closing ??= this.#drain(drainMs);
    return this.#closing;
  }

  #exchange(d: Downstream, cancel: Cancel, body: WatchedBody | undefined): void {
    this.#active += 1;
    this.#served += 1;
    d.onClose(() => {
      this.#active -= 1;
      this.#bodies.forget(body);
      // The connection becomes idle just after this; close it then rather than at the deadline.
      if (this.#draining) setImmediate(() => this.#sweep());
    });
    this.#handler(d, cancel);
  }

  /**
   * While draining: idle HTTP/1.1 connections close at once, and once no exchange is in flight
   * every connection left goes too. Those carry nothing that began: a peer that said nothing
   * yet, or one stuck in a TLS handshake (a peer that hung up mid-handshake leaves a half-open
   * socket behind, which would otherwise hold the drain until its deadline). Those are ended
   * before they are destroyed, so an answer still in the socket's buffer is sent first.
   */
  #sweep(): void {
    this.#http1.closeIdle();
    for (const socket of this.#sockets) {
      if (socket.bytesRead === 0) socket.destroy(); // said nothing yet
      else if (this.#active === 0) socket.end(() => socket.destroy());
    }
  }

  async #drain(drainMs: number): Promise<void> {
    this.#draining = true;
    this.#http1.draining = true; // answers still to come say `connection: close`
    let forced = false;
    const closed = new Promise<void>((resolve) => this.#net.close(() => resolve()));
    this.#http1.closeIdle();
    for (const session of this.#sessions) session.close(); // GOAWAY: streams in flight finish
    this.#sweep();
    const timer = setTimeout(() => {
      forced = true;
      for (const session of this.#sessions) session.destroy();
      this.#http1.destroyAll();
      // Sockets in a TLS handshake or a tunnel are no HTTP connections; they go too.
      for (const socket of this.#sockets) socket.destroy();
    }, Math.max(0, drainMs));
    await closed;
    clearTimeout(timer);
    this.#bodies.close();
    await this.#onClosed(forced);
  }
}
