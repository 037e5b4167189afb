import type { Duplex } from 'node:stream';
import type { CodecDownstream } from '../http/downstream-h1-codec';
import type { Downstream } from '../http/downstream';
import { ConnectionState, H1Connection, type ConnectionServer } from './h1-connection';
import type { ListenerLimits, ListenerTimeout } from './mux-listener';

export interface H1ServerOptions {
  readonly limits: ListenerLimits;
  /** Each exchange read (the listener counts it and runs it). */
  readonly serve: (d: CodecDownstream) => void;
  /** Each Upgrade request, with the connection it takes over. */
  readonly serveUpgrade: (d: Downstream) => void;
  /** Each client cut off for being too slow (metrics). */
  readonly onTimeout: (reason: ListenerTimeout) => void;
}

/**
 * The HTTP/1.1 server of Weft's own codec: the connections handed to it (listen/h1-connection.ts),
 * and their two timeouts, kept by one sweep while any connection is open instead of a timer per
 * request: a request head must arrive within `headersTimeoutMs` of its first byte (or of the
 * connection: slow-loris), a whole request within `requestTimeoutMs` of its head's first byte (if
 * set), and an idle keep-alive connection closes after `keepAliveTimeoutMs`.
 */
export class H1Server implements ConnectionServer {
  readonly limits: ListenerLimits;
  readonly keepAliveHint: string;
  readonly #options: H1ServerOptions;
  readonly #connections = new Set<H1Connection>();
  readonly #sweepMs: number;
  #timer: NodeJS.Timeout | undefined;
  /** A coarse clock (ms since the server began), advanced by the sweep. */
  now = 0;
  draining = false;

  constructor(options: H1ServerOptions) {
    this.#options = options;
    this.limits = options.limits;
    // What Node's server says too: a client (a peer's pool) closes an idle connection before we do.
    this.keepAliveHint = `keep-alive: timeout=${Math.floor(options.limits.keepAliveTimeoutMs / 1000)}\r\n`;
    // A quarter of the headers timeout, at most a second: a slow client is cut within timeout + sweep.
    this.#sweepMs = Math.max(50, Math.min(1000, Math.floor(options.limits.headersTimeoutMs / 4)));
  }

  /** Serves a connection (plain, or TLS after its handshake) as HTTP/1.1. */
  accept(socket: Duplex): void {
    this.#connections.add(new H1Connection(this, socket));
    this.#timer ??= setInterval(this.#sweep, this.#sweepMs).unref();
  }

  serve(d: CodecDownstream): void {
    this.#options.serve(d);
  }

  serveUpgrade(d: Downstream): void {
    this.#options.serveUpgrade(d);
  }

  forget(connection: H1Connection): void {
    this.#connections.delete(connection);
    if (this.#connections.size > 0) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Closes every connection that carries nothing now (draining). */
  closeIdle(): void {
    for (const connection of [...this.#connections]) connection.closeIfIdle();
  }

  destroyAll(): void {
    for (const connection of [...this.#connections]) connection.socket.destroy();
  }

  readonly #sweep = (): void => {
    this.now += this.#sweepMs;
    const { headersTimeoutMs, keepAliveTimeoutMs, requestTimeoutMs } = this.limits;
    for (const connection of [...this.#connections]) {
      const age = this.now - connection.since;
      if (connection.state === ConnectionState.Idle && age >= keepAliveTimeoutMs) connection.closeIfIdle();
      else if (connection.state === ConnectionState.Head && age >= headersTimeoutMs) {
        this.#options.onTimeout('headers');
        connection.headersTimedOut();
      } else if (connection.state === ConnectionState.Busy && requestTimeoutMs > 0 && age >= requestTimeoutMs) connection.requestTimedOut();
    }
  };
}
