import type { Duplex } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { HttpDispatcher } from '../http/dispatch-response';
import type { ConnectionReads } from './connection-reads';
import { KEEP_ALIVE_MARGIN_MS, H1Connection, type ConnectionOwner } from './pool-connection';
import { H1Request, type H1Handler } from './pool-request';

/**
 * Opens one connection to the server: the connected socket (TLS to a peer sidecar, TCP to the app),
 * or why not. A socket opened with `ConnectionReads`' `onread` emits no 'data': its reads come with it.
 */
export type Connect = (callback: (err: Error | null, socket: Duplex | null, reads?: ConnectionReads) => void) => void;

export interface H1PoolOptions {
  readonly connect: Connect;
  /** `host` for a request that has none (`address:port` of the endpoint). */
  readonly authority: string;
  /** An idle connection is closed after this long (shortened by the server's own `Keep-Alive: timeout` hint). */
  readonly keepAliveMs: number;
  /** At most this many connections; requests beyond wait in order. Undefined: as many as requests in flight. */
  readonly maxConnections?: number | undefined;
  /**
   * A request whose response head has not begun this long after it was sent fails: the backstop
   * for routes without a timeout (undici's default, which this pool replaced, was the same 300 s).
   */
  readonly headersTimeoutMs?: number;
}

export class PoolClosedError extends Error {
  readonly code = 'WEFT_POOL_CLOSED';
  constructor() {
    super('the connection pool to this server is closed');
  }
}

export class H1HeadersTimeoutError extends Error {
  readonly code = 'WEFT_UPSTREAM_HEADERS_TIMEOUT';
  constructor(ms: number) {
    super(`the server sent no response head within ${ms / 1000} s`);
  }
}

const SWEEP_MS = 1000;
/**
 * Connections a pool opens at once. A burst (requests piled up behind an event-loop stall or a
 * collection) finds every connection busy; opening one per waiting request made it 20-30 TLS
 * handshakes at once, each costing both sidecars more CPU than the requests themselves, which
 * deepened the stall that caused the burst (docs/performance.md, "The latency tail"). Beyond
 * these, requests wait in order for the first connection that frees up or opens; under
 * sustained demand the pool still grows to what it needs, two connections at a time.
 */
const MAX_OPENING = 2;
const HEADERS_TIMEOUT_MS = 300_000;

/**
 * HTTP/1.1 keep-alive connections to one server, with Weft's own codec (http1/): to a peer
 * sidecar over mTLS (outbound/endpoint/pools.ts) and to the local app over TCP
 * (inbound/app-pool.ts). It replaced undici's Pool on both hops, which cost each sidecar more per
 * request than any policy layer (undici's request object, its llhttp in WebAssembly, a Buffer per
 * header name and value: docs/performance.md, "The peer hop's own codec" and "Session 9: the hop
 * to the app"). The contract is undici's `dispatch(opts, handler)`, so the dispatch handler
 * (DispatchResponse) is the same for every hop. An idle connection is taken last-in first-out
 * (the warm ones stay warm, the rest age out); none idle, a new one opens unless
 * `maxConnections` are open, and then the request waits its turn. Idle and stalled connections
 * are found by one sweep a second, not a timer per request.
 */
export class H1Pool implements HttpDispatcher, ConnectionOwner {
  readonly #options: H1PoolOptions;
  readonly #headersTimeoutMs: number;
  readonly #all = new Set<H1Connection>();
  readonly #idle: H1Connection[] = [];
  #queue: H1Request[] = [];
  #timer: NodeJS.Timeout | undefined;
  #closing = false;
  #destroyed = false;
  /** Connections being opened (TCP and TLS handshakes under way). */
  #opening = 0;
  #closed: (() => void) | undefined;
  #closedPromise: Promise<void> | undefined;
  /** A coarse clock in ms, read by the sweep: connections note the time without reading a clock. */
  now = 0;

  constructor(options: H1PoolOptions) {
    this.#options = options;
    this.#headersTimeoutMs = options.headersTimeoutMs ?? HEADERS_TIMEOUT_MS;
  }

  dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    const req = new H1Request(options, handler as H1Handler, this.#options.authority);
    if (req.invalid !== undefined || this.#closing) {
      req.handler.onResponseError(req, req.invalid ?? new PoolClosedError());
      return false;
    }
    const idle = this.#takeIdle();
    if (idle) idle.send(req);
    else if (this.#canOpen()) this.#open(req);
    else this.#queue.push(req);
    return true;
  }

  /** Connections open or opening (for tests and /config). */
  get connections(): number {
    return this.#all.size;
  }

  /** Graceful: queued and in-flight requests finish, then every connection closes. */
  close(): Promise<void> {
    this.#closing = true;
    for (const connection of this.#idle.splice(0)) connection.close();
    return this.#whenEmpty();
  }

  /** Now: queued requests fail, and every connection is destroyed with what it carries. */
  destroy(): Promise<void> {
    this.#closing = this.#destroyed = true;
    const queued = this.#queue;
    this.#queue = [];
    for (const req of queued) if (!req.aborted) req.handler.onResponseError(req, new PoolClosedError());
    this.#idle.length = 0;
    for (const connection of this.#all) connection.destroy(new PoolClosedError());
    return this.#whenEmpty();
  }

  released(connection: H1Connection): void {
    const next = this.#queue.shift();
    if (next) return connection.send(next);
    if (this.#closing) return connection.close();
    connection.since = this.now;
    this.#idle.push(connection);
  }

  gone(connection: H1Connection): void {
    this.#all.delete(connection);
    const i = this.#idle.indexOf(connection);
    if (i >= 0) this.#idle.splice(i, 1);
    if (!this.#destroyed) this.#openForQueue();
    if (this.#all.size > 0) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#closed?.();
  }

  #takeIdle(): H1Connection | undefined {
    for (let connection = this.#idle.pop(); connection; connection = this.#idle.pop()) {
      if (connection.usable) return connection;
      connection.close(); // closed by the server meanwhile: 'close' takes it out of the pool
    }
    return undefined;
  }

  /** Another connection may open: fewer than MAX_OPENING are opening, and `maxConnections` allows one. */
  #canOpen(): boolean {
    const max = this.#options.maxConnections;
    return this.#opening < MAX_OPENING && (max === undefined || this.#all.size < max);
  }

  /** Requests still queued once a connection opened or went: more connections, as many as may open. */
  #openForQueue(): void {
    while (this.#queue.length > 0 && this.#canOpen()) this.#open(this.#queue.shift() as H1Request);
  }

  #open(first: H1Request): void {
    const connection = new H1Connection(this, first);
    this.#all.add(connection);
    this.#opening += 1;
    if (this.#timer === undefined) {
      this.now = performance.now();
      this.#timer = setInterval(this.#sweep, SWEEP_MS).unref();
    }
    this.#options.connect((err, socket, reads) => {
      this.#opening -= 1;
      if (err || !socket) connection.failedToConnect(err ?? new Error('no connection'));
      else if (this.#destroyed) {
        socket.destroy();
        connection.failedToConnect(new PoolClosedError());
      } else connection.connected(socket, reads);
      if (!this.#destroyed) this.#openForQueue();
    });
  }

  readonly #sweep = (): void => {
    // The clock itself, once a second: a stalled event loop skips ticks, and a count of them would
    // fall behind the time the server counts its keep-alive by.
    this.now = performance.now();
    const now = this.now;
    for (const connection of [...this.#idle]) {
      const age = now - connection.since;
      // The server's deadline must not pass before the next sweep: a connection it would close by then goes now.
      const serverDeadline = connection.keepAliveMs > 0 ? connection.keepAliveMs - KEEP_ALIVE_MARGIN_MS - SWEEP_MS : Infinity;
      if (age >= this.#options.keepAliveMs || age >= serverDeadline) {
        this.#idle.splice(this.#idle.indexOf(connection), 1);
        connection.close();
      }
    }
    for (const connection of this.#all) {
      if (connection.awaitingHead && now - connection.since >= this.#headersTimeoutMs) connection.destroy(new H1HeadersTimeoutError(this.#headersTimeoutMs));
    }
  };

  #whenEmpty(): Promise<void> {
    if (this.#all.size === 0) return Promise.resolve();
    this.#closedPromise ??= new Promise<void>((resolve) => (this.#closed = resolve));
    return this.#closedPromise;
  }
}
