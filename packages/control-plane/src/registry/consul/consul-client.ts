import { EventEmitter } from 'node:events';
import Consul from 'consul';
import { WeftError } from '@weft/api';

/** A failed Consul request or a response that breaks Consul's rules (an X-Consul-Index of 0). */
export class ConsulError extends WeftError {
  declare readonly code: 'WEFT_ERR_CONSUL';

  constructor(message: string, options?: { cause?: unknown }) {
    super('WEFT_ERR_CONSUL', message, options);
  }
}

/** What one blocking read returned: the data and the X-Consul-Index it is valid at. */
export interface IndexedResult<T> {
  readonly index: number;
  readonly value: T;
}

/** One instance of a service as `/v1/health/service/:name` lists it (the fields Weft reads). */
export interface HealthEntry {
  readonly serviceId: string;
  readonly service: string;
  readonly address: string;
  readonly port: number;
  readonly meta: Readonly<Record<string, string>>;
  /** Every check of the instance and its node passes: what `?passing` would keep. */
  readonly passing: boolean;
}

/**
 * The calls used, typed as the client takes them: its typings omit the options it passes through
 * (index, wait, ctx for cancelling and for the response headers, timeout).
 */
interface ConsulReads {
  readonly health: { service(options: Record<string, unknown>): Promise<unknown> };
  readonly catalog: { readonly service: { list(options: Record<string, unknown>): Promise<unknown> } };
  destroy(): void;
}

export interface ConsulClientOptions {
  /** HOST:PORT of a Consul agent's HTTP API. */
  readonly host: string;
  readonly port: number;
  readonly token?: string;
  readonly datacenter?: string;
}

/**
 * The two blocking reads the catalog watch makes, on the `consul` npm client. Requests are
 * cancelled through an AbortSignal, time out a little after Consul's own wait plus jitter (wait/16),
 * and their errors come back as ConsulError with Consul's text (403 "ACL not found", ...).
 */
export class ConsulClient {
  readonly #consul: ConsulReads;
  readonly #defaults: { token?: string; dc?: string };
  readonly address: string;

  constructor(options: ConsulClientOptions) {
    this.#consul = new Consul({ host: options.host, port: options.port }) as unknown as ConsulReads;
    this.#defaults = { ...(options.token ? { token: options.token } : {}), ...(options.datacenter ? { dc: options.datacenter } : {}) };
    this.address = `${options.host}:${options.port}`;
  }

  /**
   * `GET /v1/health/service/:name?index=&wait=`: every instance with its checks. Without `passing`:
   * an announced endpoint whose instance Consul lists as failing must be held back, so those are
   * needed too; `passing` on each entry is what Consul's filter would decide.
   */
  async healthService(name: string, index: number, waitMs: number, signal: AbortSignal): Promise<IndexedResult<HealthEntry[]>> {
    const [headers, body] = await this.#get('health.service', signal, waitMs, (ctx) =>
      this.#consul.health.service({ service: name, ...this.#defaults, ...blocking(index, waitMs), ctx, timeout: timeoutFor(waitMs) }));
    const list = Array.isArray(body) ? (body as unknown[]) : [];
    return { index: indexOf(headers), value: list.map(toHealthEntry).filter((e): e is HealthEntry => e !== undefined) };
  }

  /** `GET /v1/catalog/services?index=&wait=`: the names of every service in the datacenter. */
  async catalogServices(index: number, waitMs: number, signal: AbortSignal): Promise<IndexedResult<string[]>> {
    const [headers, body] = await this.#get('catalog.services', signal, waitMs, (ctx) =>
      this.#consul.catalog.service.list({ ...this.#defaults, ...blocking(index, waitMs), ctx, timeout: timeoutFor(waitMs) }));
    const names = body && typeof body === 'object' ? Object.keys(body) : [];
    return { index: indexOf(headers), value: names.sort() };
  }

  close(): void {
    this.#consul.destroy();
  }

  async #get(what: string, signal: AbortSignal, waitMs: number, call: (ctx: EventEmitter & { includeResponse: boolean }) => Promise<unknown>): Promise<[Record<string, unknown>, unknown]> {
    const ctx = Object.assign(new EventEmitter(), { includeResponse: true });
    const cancel = (): void => void ctx.emit('cancel');
    signal.addEventListener('abort', cancel, { once: true });
    try {
      const [res, body] = (await call(ctx)) as [{ headers?: Record<string, unknown> }, unknown];
      return [res.headers ?? {}, body];
    } catch (err) {
      throw describe(err, what, this.address, waitMs);
    } finally {
      signal.removeEventListener('abort', cancel);
    }
  }
}

function blocking(index: number, waitMs: number): { index?: string; wait?: string } {
  return index > 0 ? { index: String(index), wait: `${Math.ceil(waitMs / 1000)}s` } : {};
}

/** Consul may hold a blocking read for wait + wait/16; anything much longer is a dead connection. */
function timeoutFor(waitMs: number): number {
  return waitMs + Math.ceil(waitMs / 16) + 5_000;
}

/** X-Consul-Index as a number; NaN when missing or not a number (the caller treats both as an error). */
function indexOf(headers: Record<string, unknown>): number {
  const raw = headers['x-consul-index'];
  return typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : NaN;
}

function toHealthEntry(value: unknown): HealthEntry | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const { Service, Node, Checks } = value as { Service?: Record<string, unknown>; Node?: Record<string, unknown>; Checks?: unknown };
  if (!Service || typeof Service['ID'] !== 'string' || typeof Service['Service'] !== 'string') return undefined;
  const meta: Record<string, string> = {};
  if (Service['Meta'] && typeof Service['Meta'] === 'object') for (const [k, v] of Object.entries(Service['Meta'] as object)) if (typeof v === 'string') meta[k] = v;
  const checks = Array.isArray(Checks) ? (Checks as { Status?: unknown }[]) : [];
  // An instance without an address of its own is reached at its node's (Consul's documented fallback).
  const address = typeof Service['Address'] === 'string' && Service['Address'] ? Service['Address'] : typeof Node?.['Address'] === 'string' ? Node['Address'] : '';
  return {
    serviceId: Service['ID'],
    service: Service['Service'],
    address,
    port: typeof Service['Port'] === 'number' ? Service['Port'] : 0,
    meta,
    passing: checks.every((c) => c.Status === 'passing'),
  };
}

function describe(err: unknown, what: string, address: string, waitMs: number): ConsulError {
  const e = err as { message?: string; statusCode?: number; response?: { statusCode?: number }; code?: string; isPapi?: boolean };
  const status = e.response?.statusCode ?? e.statusCode;
  const text = e.message ?? String(err);
  if (status === 403) return new ConsulError(`Consul at ${address} refused ${what} (403 ${text}): check --consul-token-file (the token needs service:read and node:read)`, { cause: err });
  if (status !== undefined) return new ConsulError(`Consul at ${address} answered ${what} with ${status} ${text}`, { cause: err });
  if (/timed out/.test(text)) return new ConsulError(`Consul at ${address} did not answer ${what} within ${timeoutFor(waitMs)}ms`, { cause: err });
  return new ConsulError(`cannot reach Consul at ${address} for ${what}: ${text}`, { cause: err });
}
