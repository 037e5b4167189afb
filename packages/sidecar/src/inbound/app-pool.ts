import type { Dispatcher, Pool } from 'undici';
import { undiciPool } from '../http/undici-pool';

export interface AppPoolOptions {
  readonly host: string;
  readonly port: number;
  /** Idle connections are closed after this (undici also honours the app's `Keep-Alive: timeout`). */
  readonly keepAliveMs: number;
  readonly connectTimeoutMs: number;
}

/**
 * Kept-alive HTTP/1.1 connections to the local app: an undici Pool, opened with the first request
 * (a sidecar whose app only speaks HTTP/2 or TCP never loads it). undici rather than node:http's
 * `request` + `Agent`: no ClientRequest, IncomingMessage or socket listeners per request, about
 * 15 us less CPU per request on this hop (docs/performance.md, "The hop to the app").
 */
export class AppPool {
  readonly #options: AppPoolOptions;
  #pool: Pool | undefined;
  #closed = false;

  constructor(options: AppPoolOptions) {
    this.#options = options;
  }

  get(): Pick<Dispatcher, 'dispatch'> {
    if (this.#pool) return this.#pool;
    if (this.#closed) throw new Error('the connections to the app are closed');
    const { host, port, keepAliveMs, connectTimeoutMs } = this.#options;
    const Pool = undiciPool();
    this.#pool = new Pool(`http://${host.includes(':') ? `[${host}]` : host}:${port}`, { keepAliveTimeout: keepAliveMs, connect: { timeout: connectTimeoutMs } });
    return this.#pool;
  }

  /** Closes every connection (requests in flight fail): the listener has drained or given up. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#pool?.destroy().catch(() => undefined);
  }
}
