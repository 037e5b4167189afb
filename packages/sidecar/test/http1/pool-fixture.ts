import { connect as netConnect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Dispatcher } from 'undici';
import type { HeaderMap } from '../../src/layers/service';
import type { HttpDispatcher } from '../../src/http/dispatch-response';
import { ConnectionReads } from '../../src/http1/connection-reads';
import { H1Pool, type H1PoolOptions } from '../../src/http1/pool';
import type { H1Handler } from '../../src/http1/pool-request';

/** One connection a RawPeer accepted: its socket, and every request (head and body bytes, as sent) read on it. */
export interface RawConnection {
  readonly socket: Socket;
  readonly requests: string[];
  closed: boolean;
}

/** Answers one whole request (its exact bytes) on a connection. */
export type Answer = (request: string, connection: RawConnection) => void;

/**
 * A peer that writes exact bytes: a net server on 127.0.0.1 port 0 that cuts requests out of a
 * connection's bytes (a head, then a Content-Length body or a chunked one up to its last chunk)
 * and answers each as `answer` says.
 */
export class RawPeer {
  readonly connections: RawConnection[] = [];
  readonly #server: Server;
  answer: Answer = (_request, c) => c.socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');

  /** `allowHalfOpen`: a peer that keeps its side open when the pool ends its own. */
  constructor(options: { allowHalfOpen?: boolean } = {}) {
    this.#server = createServer({ allowHalfOpen: options.allowHalfOpen ?? false }, (socket) => {
      const connection: RawConnection = { socket, requests: [], closed: false };
      this.connections.push(connection);
      let pending = '';
      socket.on('error', () => undefined);
      socket.on('close', () => (connection.closed = true));
      socket.on('data', (chunk: Buffer) => {
        pending += chunk.toString('latin1');
        for (let end = requestEnd(pending); end > 0; end = requestEnd(pending)) {
          const request = pending.slice(0, end);
          pending = pending.slice(end);
          connection.requests.push(request);
          this.answer(request, connection);
        }
      });
    });
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    return (this.#server.address() as AddressInfo).port;
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  /** Every request seen, in order, as `METHOD target`. */
  get lines(): string[] {
    return this.connections.flatMap((c) => c.requests.map((r) => r.slice(0, r.indexOf(' HTTP/1.1'))));
  }

  close(): Promise<void> {
    for (const c of this.connections) c.socket.destroy();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

/** Where the request at the start of `text` ends, or -1 when it is not all there. */
function requestEnd(text: string): number {
  const head = text.indexOf('\r\n\r\n');
  if (head < 0) return -1;
  const fields = text.slice(0, head).toLowerCase();
  const length = /\r\ncontent-length: *(\d+)/.exec(fields);
  if (length) return text.length >= head + 4 + Number(length[1]) ? head + 4 + Number(length[1]) : -1;
  if (fields.includes('\r\ntransfer-encoding: chunked')) {
    const last = text.indexOf('\r\n0\r\n\r\n', head + 2);
    return last < 0 ? -1 : last + 7;
  }
  return head + 4;
}

/**
 * How a pool's connections are read: 'data' events, or Node reading into the sidecar's shared
 * buffer (`onread`, http1/connection-reads.ts) as the sidecar's own connectors do.
 */
export type ReadMode = 'data events' | 'shared read buffer';
export const READ_MODES: readonly ReadMode[] = ['data events', 'shared read buffer'];

/** A pool to a local peer over plain TCP, with test-sized defaults; counts its connects. */
export function plainPool(port: number, options: Partial<H1PoolOptions> = {}, mode: ReadMode = 'data events'): H1Pool & { connects: number } {
  let connects = 0;
  const pool = new H1Pool({
    connect: (callback) => {
      connects++;
      const reads = mode === 'shared read buffer' ? new ConnectionReads() : undefined;
      const socket = netConnect({ port, host: '127.0.0.1', ...(reads ? { onread: reads.onread } : {}) });
      const onError = (err: Error): void => callback(err, null);
      socket.once('error', onError);
      socket.once('connect', () => {
        socket.off('error', onError);
        callback(null, socket, reads);
      });
    },
    authority: `127.0.0.1:${port}`,
    keepAliveMs: 30_000,
    ...options,
  });
  return Object.defineProperty(pool, 'connects', { get: () => connects }) as H1Pool & { connects: number };
}

/** What a dispatch handler was told, in order, and the response it makes of it. */
export class RecordingHandler implements H1Handler {
  readonly events: string[] = [];
  controller: Dispatcher.DispatchController | undefined;
  status = 0;
  headers: HeaderMap = {};
  body = Buffer.alloc(0);
  trailers: HeaderMap | undefined;
  error: (Error & { code?: string }) | undefined;
  /** Settles on onResponseEnd or onResponseError. */
  readonly done: Promise<void>;
  /** onRequestStart throws this (a request abandoned while it waited). */
  refuse: Error | undefined;
  whenData: ((chunk: Buffer, controller: Dispatcher.DispatchController) => void) | undefined;
  #settle!: () => void;

  constructor() {
    this.done = new Promise((resolve) => (this.#settle = resolve));
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    this.events.push('request');
    if (this.refuse) throw this.refuse;
  }

  onResponseStart(_controller: Dispatcher.DispatchController, status: number, headers: Record<string, string | string[] | undefined>): void {
    this.events.push(`start ${status}`);
    this.status = status;
    this.headers = headers as HeaderMap;
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.body = Buffer.concat([this.body, chunk]);
    this.whenData?.(chunk, controller);
  }

  onResponseEnd(_controller: Dispatcher.DispatchController, trailers: Record<string, string | string[] | undefined>): void {
    this.events.push('end');
    this.trailers = trailers as HeaderMap;
    this.#settle();
  }

  onResponseError(_controller: Dispatcher.DispatchController | undefined, err: Error): void {
    this.events.push('error');
    this.error = err;
    this.#settle();
  }

  get text(): string {
    return this.body.toString('latin1');
  }
}

/** Dispatches one request and waits for its end or failure. */
export async function send(pool: HttpDispatcher, options: Partial<Dispatcher.DispatchOptions> = {}, handler = new RecordingHandler()): Promise<RecordingHandler> {
  pool.dispatch({ method: 'GET', path: '/', headers: {}, ...options } as Dispatcher.DispatchOptions, handler);
  await handler.done;
  return handler;
}
