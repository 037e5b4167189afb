import { connect as netConnect } from 'node:net';
import type { HttpDispatcher } from '../http/dispatch-response';
import { connectWithin } from '../http1/connect-within';
import { ConnectionReads } from '../http1/connection-reads';
import { H1Pool, type Connect } from '../http1/pool';

export interface AppPoolOptions {
  readonly host: string;
  readonly port: number;
  /** Idle connections are closed after this (sooner when the app's own `Keep-Alive: timeout` says so). */
  readonly keepAliveMs: number;
  readonly connectTimeoutMs: number;
}

/** No TCP connection to the app within the connect timeout. */
export class AppConnectTimeoutError extends Error {
  readonly code = 'WEFT_APP_CONNECT_TIMEOUT';
  constructor(where: string, ms: number) {
    super(`no connection to ${where} within ${ms} ms`);
  }
}

/**
 * Kept-alive HTTP/1.1 connections to the local app, opened with the first request (a sidecar whose
 * app only speaks HTTP/2 or TCP opens none): the same pool and codec as the hop between sidecars
 * (http1/pool.ts), over plain TCP. It was undici's Pool until session 9; Weft's own measured 0.78x
 * the server sidecar's CPU per request at 500 req/s and 6 MB less peak RSS, and unloads undici from
 * the sidecar (docs/performance.md, "Session 9: the hop to the app").
 */
export class AppPool {
  readonly #options: AppPoolOptions;
  #pool: H1Pool | undefined;
  #closed = false;

  constructor(options: AppPoolOptions) {
    this.#options = options;
  }

  get(): HttpDispatcher {
    if (this.#closed) throw new Error('the connections to the app are closed');
    if (this.#pool) return this.#pool;
    const { host, port, keepAliveMs, connectTimeoutMs } = this.#options;
    const authority = `${host.includes(':') ? `[${host}]` : host}:${port}`;
    this.#pool = new H1Pool({ connect: appConnector(host, port, authority, connectTimeoutMs), authority, keepAliveMs });
    return this.#pool;
  }

  /** Closes every connection (requests in flight fail): the listener has drained or given up. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#pool?.destroy();
  }
}

function appConnector(host: string, port: number, where: string, timeoutMs: number): Connect {
  return (callback) => {
    const reads = new ConnectionReads();
    const socket = netConnect({ host, port, onread: reads.onread });
    socket.setNoDelay(true);
    connectWithin(socket, 'connect', timeoutMs, () => new AppConnectTimeoutError(where, timeoutMs), () => callback(null, socket, reads), (err) => callback(err, null));
  };
}
