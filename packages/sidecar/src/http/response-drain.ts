import type { Dispatcher } from 'undici';

/**
 * How much of a cancelled request's answer a hop still reads, to keep its connection. An HTTP/1.1
 * request can only be cancelled by closing its connection; when a client leaves with requests in
 * flight (a load balancer's health check, a generator that stops, a user who navigates away) each
 * close costs a new connection, and between sidecars a new mTLS handshake (about 5 ms of CPU across
 * both sides) just when load starts again (docs/performance.md, "The latency tail"). An answer
 * that is small and near is read and thrown away instead; anything longer or later is cut as
 * before, so a cancelled request still ends upstream within `maxMs`, and a streaming answer the
 * moment its headers show it is one.
 */
export const CANCEL_DRAIN = Object.freeze({
  /** A declared `content-length` above this, or more bytes read, closes the connection. */
  maxBytes: 64 * 1024,
  /** An answer not complete by then closes the connection. */
  maxMs: 500,
});

/**
 * Reads and discards the answer to a request its caller has given up, on behalf of a dispatch
 * handler that was told `abort` after the request went out. The caller already has its error;
 * this only decides whether the connection survives: a complete answer within CANCEL_DRAIN
 * returns it to the pool, anything else aborts the request, which closes it.
 */
export class ResponseDrain {
  readonly #controller: Dispatcher.DispatchController;
  readonly #reason: Error;
  readonly #timer: NodeJS.Timeout;
  #bytes = 0;
  #settled = false;

  constructor(controller: Dispatcher.DispatchController, reason: Error) {
    this.#controller = controller;
    this.#reason = reason;
    this.#timer = setTimeout(this.#cut, CANCEL_DRAIN.maxMs);
    this.#timer.unref();
  }

  headers(statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    if (statusCode < 200 || this.#settled) return; // 1xx: the real answer follows
    const declared = headers['content-length'];
    if (typeof declared === 'string' && Number(declared) <= CANCEL_DRAIN.maxBytes) return;
    // No length, or a large one: only an answer that ended in the read that brought its headers
    // (204, 304, HEAD, a short chunked body) is kept; one that streams on is cut now.
    queueMicrotask(this.#cut);
  }

  data(length: number): void {
    this.#bytes += length;
    if (this.#bytes > CANCEL_DRAIN.maxBytes) this.#cut();
  }

  /** The answer ended (undici keeps the connection) or failed (undici closed it). */
  settled(): void {
    this.#settled = true;
    clearTimeout(this.#timer);
  }

  readonly #cut = (): void => {
    if (this.#settled) return;
    this.settled();
    this.#controller.abort(this.#reason);
  };
}
