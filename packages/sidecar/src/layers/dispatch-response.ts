import type { Dispatcher } from 'undici';
import type { Phase } from '../telemetry/record';
import type { CancelSignal } from './cancel';
import type { HeaderMap, ProxyResponse } from './http';
import { ProxyBody } from './proxy-body';

/** What a dispatched request carries that the handler reads. */
export interface DispatchedRequest {
  readonly signal: CancelSignal;
  readonly record: { phase: Phase };
}

/**
 * How one client names its failures, made once per client (not per request): `sent` says whether
 * the request had been written to a connection when `err` happened.
 */
export type ClassifyFailure<R> = (err: Error, sent: boolean, req: R) => Error;

type State = 'waiting' | 'sent' | 'streaming' | 'done';

/**
 * undici's dispatch handler for a proxied request, for every hop that goes through an undici Pool
 * (to a peer sidecar, to the local app): resolves once the response headers are in, the body then
 * streams on as a ProxyBody with back-pressure (undici pauses while the reader is slow). The
 * request's Cancel aborts it, also while it waits for a connection. A failure before the headers
 * rejects, named by `classify`; a failure after them breaks the body.
 */
export class DispatchResponse<R extends DispatchedRequest> implements Dispatcher.DispatchHandler {
  readonly #req: R;
  readonly #classify: ClassifyFailure<R>;
  readonly #sentPhase: Phase;
  readonly #resolve: (res: ProxyResponse) => void;
  readonly #reject: (err: Error) => void;
  #state: State = 'waiting';
  #controller: Dispatcher.DispatchController | undefined;
  #body: ProxyBody | undefined;
  #trailers: HeaderMap | undefined;

  constructor(req: R, classify: ClassifyFailure<R>, sentPhase: Phase, resolve: (res: ProxyResponse) => void, reject: (err: Error) => void) {
    this.#req = req;
    this.#classify = classify;
    this.#sentPhase = sentPhase;
    this.#resolve = resolve;
    this.#reject = reject;
    req.signal.addEventListener('abort', this.#onAbort, { once: true });
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    if (this.#state === 'done') {
      // Abandoned while it waited for a connection: cancel it now that undici lets us.
      controller.abort(this.#req.signal.reason as Error);
      return;
    }
    this.#state = 'sent';
    this.#req.record.phase = this.#sentPhase;
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    if (statusCode < 200 || this.#state === 'done') return; // 1xx: informational, the real answer follows
    this.#state = 'streaming';
    this.#body = new ProxyBody(controller);
    // undici's parsed headers never hold undefined values. Trailers can only follow a chunked body.
    const chunked = headers['content-length'] === undefined;
    this.#resolve({ status: statusCode, headers: headers as HeaderMap, body: this.#body, ...(chunked ? { trailers: () => this.#trailers } : {}) });
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.#body && !this.#body.push(chunk)) controller.pause();
  }

  onResponseEnd(_controller: Dispatcher.DispatchController, trailers: Record<string, string | string[] | undefined>): void {
    if (Object.keys(trailers).length > 0) this.#trailers = trailers as HeaderMap;
    this.#finish();
    this.#body?.complete();
  }

  onResponseError(_controller: Dispatcher.DispatchController | undefined, err: Error): void {
    const wasStreaming = this.#state === 'streaming';
    const wasSent = this.#state === 'sent';
    this.#finish();
    if (wasStreaming) this.#body?.destroy(err);
    else this.#reject(this.#ownOr(err, wasSent));
  }

  readonly #onAbort = (): void => {
    const reason = this.#req.signal.reason as Error;
    if (this.#controller) {
      this.#controller.abort(reason); // undici answers with onResponseError(reason)
      return;
    }
    this.#finish();
    this.#reject(reason);
  };

  #finish(): void {
    this.#state = 'done';
    this.#req.signal.removeEventListener('abort', this.#onAbort);
  }

  /** Our own abort reason (a deadline, the client leaving) passes as is; anything else is classified. */
  #ownOr(err: Error, sent: boolean): Error {
    if (this.#req.signal.aborted && err === this.#req.signal.reason) return err;
    return this.#classify(err, sent, this.#req);
  }
}
