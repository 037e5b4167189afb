import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { Phase } from '../telemetry/record';
import type { CancelSignal } from '../layers/cancel';
import type { HeaderMap, ProxyResponse } from '../layers/service';
import { ProxyBody } from './proxy-body';
import { ResponseDrain } from './response-drain';

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

/**
 * undici's one contract, `dispatch(opts, handler)`: what every pooled hop sends through (Weft's
 * H1Pool, to a peer sidecar and to the local app; any undici dispatcher in tests).
 */
export interface HttpDispatcher {
  dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean;
}

/** Where one client sends a request, chosen once per client; it throws the client's own error when there is none. */
export type PickDispatcher<R> = (req: R) => HttpDispatcher;

/** A proxied request's phases on one hop: while it waits for a connection, and once it was written. */
export interface HopPhases {
  readonly waiting: Phase;
  readonly sent: Phase;
}

/**
 * Sends one proxied request through a dispatcher (see DispatchResponse); what every hop
 * through a pool shares. Rejects at once when the request was already cancelled or no dispatcher
 * can take it. The method was checked by Node's parser; undici takes any token.
 */
export function dispatchProxied<R extends DispatchedRequest & { readonly method: string; readonly target: string; readonly body: Readable | Buffer | null }>(
  req: R,
  headers: HeaderMap,
  pick: PickDispatcher<R>,
  classify: ClassifyFailure<R>,
  phases: HopPhases,
): Promise<ProxyResponse> {
  return new Promise<ProxyResponse>((resolve, reject) => {
    if (req.signal.aborted) {
      reject(req.signal.reason as Error);
      return;
    }
    let dispatcher: HttpDispatcher;
    try {
      dispatcher = pick(req);
    } catch (err) {
      reject(err as Error);
      return;
    }
    req.record.phase = phases.waiting;
    // A body still streaming from the caller dies with the caller: its answer cannot be awaited.
    const drainable = req.body === null || Buffer.isBuffer(req.body);
    const handler = new DispatchResponse(req, classify, phases.sent, drainable, resolve, reject);
    dispatcher.dispatch({ path: req.target, method: req.method as Dispatcher.HttpMethod, headers, body: req.body }, handler);
  });
}

type State = 'waiting' | 'sent' | 'heading' | 'streaming' | 'done';

/**
 * The dispatch handler (undici's contract) of a proxied request, for every pooled hop (H1Pool to
 * a peer sidecar and to the local app). The response is handed up once its headers are
 * in, but not in the same breath: both pools parse a whole socket read at once, and a small answer's
 * body and end come in that same read, so the handler waits for the end of the read (a microtask).
 * If the body is whole by then, the response carries it as a Buffer and no stream is made at all
 * (most answers a proxy carries; a stream, its pipe and their watchers were about 4 KB of garbage
 * and several ticks per response: docs/performance.md, "Whole bodies"). Otherwise the body
 * streams on as a ProxyBody with back-pressure (the pool pauses while the reader is slow).
 * The request's Cancel rejects it at once. Upstream, a request still waiting for a connection is
 * dropped from the queue; one sent whose body was whole has its answer drained (ResponseDrain:
 * small and near, or the connection closes); anything else is aborted, closing its connection.
 * A failure before the headers rejects, named by `classify`; a failure after them breaks the body.
 */
export class DispatchResponse<R extends DispatchedRequest> implements Dispatcher.DispatchHandler {
  readonly #req: R;
  readonly #classify: ClassifyFailure<R>;
  readonly #sentPhase: Phase;
  /** The whole request was given to the pool (no body, or a Buffer): its answer can be drained. */
  readonly #drainable: boolean;
  readonly #resolve: (res: ProxyResponse) => void;
  readonly #reject: (err: Error) => void;
  #state: State = 'waiting';
  #controller: Dispatcher.DispatchController | undefined;
  #status = 0;
  #headers: HeaderMap | undefined;
  /** What arrived before the response was handed up. */
  #chunks: Buffer[] | undefined;
  #ended = false;
  #body: ProxyBody | undefined;
  #trailers: HeaderMap | undefined;
  #drain: ResponseDrain | undefined;

  constructor(req: R, classify: ClassifyFailure<R>, sentPhase: Phase, drainable: boolean, resolve: (res: ProxyResponse) => void, reject: (err: Error) => void) {
    this.#req = req;
    this.#classify = classify;
    this.#sentPhase = sentPhase;
    this.#drainable = drainable;
    this.#resolve = resolve;
    this.#reject = reject;
    req.signal.addEventListener('abort', this.#onAbort, { once: true });
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    if (this.#state === 'done') {
      // Abandoned while it waited for a connection. controller.abort() would close the connection
      // though nothing was written on it yet; a throw here makes the pool drop the request from its
      // queue and keep the connection (its writer catches it and fails the request alone).
      throw this.#req.signal.reason as Error;
    }
    this.#state = 'sent';
    this.#req.record.phase = this.#sentPhase;
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    if (this.#drain) return this.#drain.headers(statusCode, headers);
    if (statusCode < 200 || this.#state === 'done') return; // 1xx: informational, the real answer follows
    this.#controller = controller;
    this.#state = 'heading';
    this.#status = statusCode;
    this.#headers = headers as HeaderMap; // parsed headers never hold undefined values
    queueMicrotask(this.#handUp);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.#drain) this.#drain.data(chunk.length);
    else if (this.#state === 'heading') (this.#chunks ??= []).push(chunk);
    else if (this.#body && !this.#body.push(chunk)) controller.pause();
  }

  onResponseEnd(_controller: Dispatcher.DispatchController, trailers: Record<string, string | string[] | undefined>): void {
    if (this.#drain) return this.#drain.settled();
    if (Object.keys(trailers).length > 0) this.#trailers = trailers as HeaderMap;
    const heading = this.#state === 'heading';
    this.#finish();
    if (heading) this.#ended = true;
    else this.#body?.complete();
  }

  onResponseError(_controller: Dispatcher.DispatchController | undefined, err: Error): void {
    if (this.#drain) return this.#drain.settled();
    const state = this.#state;
    this.#finish();
    if (state === 'heading') {
      // Broke off in the read that brought the headers: hand up a stream that fails, as it would have later.
      this.#handUpStream();
      this.#body?.destroy(err);
    } else if (state === 'streaming') this.#body?.destroy(err);
    else if (!this.#ended) this.#reject(this.#ownOr(err, state === 'sent'));
  }

  /** The end of the read that brought the headers: the body is whole (a Buffer) or streams on. */
  readonly #handUp = (): void => {
    if (this.#headers === undefined || this.#body !== undefined) return; // handed up already (failed in that read)
    if (!this.#ended) {
      this.#handUpStream();
      return;
    }
    const chunks = this.#chunks;
    const body = chunks === undefined ? null : chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
    this.#resolve(this.#response(body));
  };

  #handUpStream(): void {
    const body = new ProxyBody(this.#controller as Dispatcher.DispatchController);
    this.#body = body;
    if (this.#state === 'heading') this.#state = 'streaming';
    for (const chunk of this.#chunks ?? []) body.push(chunk);
    this.#chunks = undefined;
    this.#resolve(this.#response(body));
  }

  #response(body: ProxyResponse['body']): ProxyResponse {
    const headers = this.#headers as HeaderMap;
    // Trailers can only follow a chunked body.
    const chunked = headers['content-length'] === undefined;
    return chunked ? { status: this.#status, headers, body, trailers: () => this.#trailers } : { status: this.#status, headers, body };
  }

  readonly #onAbort = (): void => {
    const reason = this.#req.signal.reason as Error;
    if (this.#controller && this.#state === 'sent' && this.#drainable) {
      this.#finish();
      this.#drain = new ResponseDrain(this.#controller, reason);
      this.#reject(reason);
      return;
    }
    if (this.#controller) {
      this.#controller.abort(reason); // the pool answers with onResponseError(reason)
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
