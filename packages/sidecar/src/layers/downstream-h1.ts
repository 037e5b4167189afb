import type { IncomingMessage, ServerResponse } from 'node:http';
import { TLSSocket } from 'node:tls';
import type { Readable } from 'node:stream';
import type { Downstream, Outcome, RespondOptions } from './downstream';
import { ClientClosedError } from './errors';
import { grpcErrorHeaders } from './grpc';
import { declaredBodyLength, discardBody } from './http';
import { answer, guardBody, sendResponse, type CloseWatch } from './respond';

/** An HTTP/1.1 request and its response object, as a Downstream. */
export function http1Downstream(req: IncomingMessage, res: ServerResponse): Downstream {
  return new Http1Downstream(req, res);
}

/**
 * One listener on the response's 'close' for everyone who waits for the end of the exchange (the
 * listener's bookkeeping, the request's report, a whole body's write): a `once` per waiter was a
 * wrapper object and a listener array per request (about 900 bytes of garbage).
 */
class Http1Downstream implements Downstream {
  readonly protocol = 'http1';
  readonly method: string;
  readonly url: string;
  readonly authority: string | undefined;
  readonly headers: IncomingMessage['headers'];
  readonly tls: TLSSocket | null;
  readonly upgrade = undefined;
  readonly #req: IncomingMessage;
  readonly #res: ServerResponse;
  #first: ((complete: boolean) => void) | undefined;
  #more: Array<(complete: boolean) => void> | undefined;

  constructor(req: IncomingMessage, res: ServerResponse) {
    const socket = req.socket;
    this.method = req.method ?? '';
    this.url = req.url ?? '';
    this.authority = req.headers.host;
    this.headers = req.headers;
    this.tls = socket instanceof TLSSocket ? socket : null;
    this.#req = req;
    this.#res = res;
    res.on('close', this.#closed); // a response closes once
  }

  takeBody(): { readonly body: Readable | null; readonly length: number | undefined } {
    const declared = declaredBodyLength(this.#req.headers);
    return { body: declared.hasBody ? guardBody(this.#req) : null, length: declared.length };
  }

  respond(outcome: Outcome, options: RespondOptions, done: (err: Error | undefined) => void): void {
    respondHttp1(this.#req, this.#res, outcome, options, done, this);
  }

  /** Listeners run in the order they were added, once, when the response closes. */
  onClose(listener: (complete: boolean) => void): void {
    if (this.#first === undefined) this.#first = listener;
    else (this.#more ??= []).push(listener);
  }

  readonly #closed = (): void => {
    const complete = this.#res.writableFinished;
    this.#first?.(complete);
    if (this.#more) for (const listener of this.#more) listener(complete);
  };
}

function respondHttp1(req: IncomingMessage, res: ServerResponse, outcome: Outcome, options: RespondOptions, done: (err: Error | undefined) => void, closes: CloseWatch): void {
  if ('response' in outcome) {
    try {
      sendResponse(res, outcome.response, options.dropMeshHeaders, options.extra, done, closes);
    } catch (err) {
      // A header Node refuses to write: cut the connection rather than crash.
      discardBody(outcome.response.body);
      res.destroy(err as Error);
      done(err as Error);
    }
    return;
  }
  const err = outcome.error;
  if (!options.grpc || err instanceof ClientClosedError || res.headersSent) {
    answer(req, res, outcome, options.dropMeshHeaders, options.extra, () => undefined);
  } else {
    // gRPC over HTTP/1.1 is rare (gRPC requires HTTP/2), but the answer should read the same.
    try {
      res.writeHead(200, { ...options.extra, ...err.responseHeaders, ...grpcErrorHeaders(err), 'content-length': '0' });
      res.end();
    } catch (e) {
      res.destroy(e as Error);
    }
  }
  done(undefined);
}
