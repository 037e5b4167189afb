import { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { CompiledEndpoint, Destination } from '../../config/types';
import { BadRequestError, ConnectError, ProxyError, UpstreamResetError } from '../../layers/errors';
import type { HeaderMap, ProxyResponse, Service } from '../../layers/http';
import type { Phase } from '../../telemetry/record';
import type { CancelSignal } from '../../layers/cancel';

/** What the endpoint client reads from a request. */
export interface EndpointRequest {
  readonly method: string;
  readonly target: string;
  readonly headers: HeaderMap;
  readonly body: Readable | Buffer | null;
  readonly signal: CancelSignal;
  readonly record: { phase: Phase };
  readonly endpoint: CompiledEndpoint;
}

/** Where connections come from: the pooled mTLS dispatchers (EndpointPools in production). */
export interface EndpointDispatchers {
  /** Only `dispatch`: the pools are undici's Pool loaded without undici's index (see pools.ts). */
  get(endpoint: string, destination: Destination): Pick<Dispatcher, 'dispatch'>;
}

/**
 * Sends a request to one endpoint over its pooled connection and resolves once the response
 * headers are in; the body streams on with back-pressure (undici is paused while the app reads
 * slowly). Failures are classified by when they happen: before the request was written to a
 * connection it is a connect failure, after it a reset.
 */
export function endpointClient(destination: Destination, dispatchers: EndpointDispatchers): Service<EndpointRequest> {
  return (req) =>
    new Promise<ProxyResponse>((resolve, reject) => {
      if (req.signal.aborted) {
        reject(req.signal.reason as Error);
        return;
      }
      let dispatcher: Pick<Dispatcher, 'dispatch'>;
      try {
        dispatcher = dispatchers.get(req.endpoint.address, destination);
      } catch (err) {
        reject(err as Error);
        return;
      }
      req.record.phase = 'connect';
      const handler = new ResponseHandler(destination.key, req, resolve, reject);
      // The method was checked by Node's parser; undici takes any token.
      dispatcher.dispatch({ path: req.target, method: req.method as Dispatcher.HttpMethod, headers: req.headers, body: req.body }, handler);
    });
}

type State = 'waiting' | 'sent' | 'streaming' | 'done';

class ResponseHandler implements Dispatcher.DispatchHandler {
  readonly #destination: string;
  readonly #req: EndpointRequest;
  readonly #resolve: (res: ProxyResponse) => void;
  readonly #reject: (err: Error) => void;
  #state: State = 'waiting';
  #controller: Dispatcher.DispatchController | undefined;
  #body: UpstreamBody | undefined;
  #trailers: HeaderMap | undefined;

  constructor(destination: string, req: EndpointRequest, resolve: (res: ProxyResponse) => void, reject: (err: Error) => void) {
    this.#destination = destination;
    this.#req = req;
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
    this.#req.record.phase = 'response headers';
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    if (statusCode < 200 || this.#state === 'done') return; // 1xx: informational, the real answer follows
    this.#state = 'streaming';
    this.#body = new UpstreamBody(controller);
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
    else this.#reject(this.#classify(err, wasSent));
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

  #classify(err: Error, sent: boolean): Error {
    // Our own abort reason (a deadline, the client leaving) or a peer identity refusal: as is.
    if (err instanceof ProxyError || (this.#req.signal.aborted && err === this.#req.signal.reason)) return err;
    const code = (err as { code?: unknown }).code;
    if (code === 'UND_ERR_INVALID_ARG' || code === 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH') {
      return new BadRequestError(`the request cannot be forwarded: ${err.message}`);
    }
    const endpoint = this.#req.endpoint.address;
    return sent ? new UpstreamResetError(this.#destination, endpoint, err) : new ConnectError(this.#destination, endpoint, err);
  }
}

/** A response body fed by undici; reading resumes the connection, destroying it aborts the request. */
class UpstreamBody extends Readable {
  readonly #controller: Dispatcher.DispatchController;
  #complete = false;

  constructor(controller: Dispatcher.DispatchController) {
    super({ highWaterMark: 64 * 1024 });
    this.#controller = controller;
    // Whoever pipes this body sees its errors; an error on a body nobody reads any more must not crash.
    this.on('error', () => undefined);
  }

  complete(): void {
    this.#complete = true;
    this.push(null);
  }

  override _read(): void {
    this.#controller.resume();
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    if (!this.#complete) this.#controller.abort(err ?? new Error('the response body was discarded'));
    callback(err);
  }
}
