import type { Dispatcher } from 'undici';
import type { HeaderMap } from '../layers/service';
import { BodyLengthError } from './body-writer';
import { decimal, isToken } from './head';
import { framingLine, headerLines, InvalidHeaderError, type Framing } from './write-head';

/** The handler calls a pool makes: the ones undici's own handlers implement (DispatchResponse). */
export type H1Handler = Required<Pick<Dispatcher.DispatchHandler, 'onRequestStart' | 'onResponseStart' | 'onResponseData' | 'onResponseEnd' | 'onResponseError'>>;

/** One connection's side of a request: how a controller reaches the connection carrying it. */
export interface RequestCarrier {
  abortRequest(req: H1Request, reason: Error): void;
  pauseReading(): void;
  resumeReading(): void;
}

/** Methods whose request without a body still says `content-length: 0`, as undici and browsers do. */
const ZERO_LENGTH_METHODS = new Set(['POST', 'PUT', 'PATCH']);

/**
 * One request given to a H1Pool, and the controller its handler drives it with (undici's
 * DispatchController: abort, pause, resume). The head is serialized and checked when the request
 * is made, so a request that cannot be written fails before it takes a connection.
 */
export class H1Request implements Dispatcher.DispatchController {
  readonly handler: H1Handler;
  /** Request line, headers and framing, up to and including the blank line. */
  readonly head: string;
  readonly body: Buffer | NodeJS.ReadableStream | null;
  readonly framing: Framing;
  /** A HEAD request: its answer has no body, whatever it says. */
  readonly isHead: boolean;
  /** Why the request cannot be written (a header or length it cannot carry), or undefined. */
  readonly invalid: Error | undefined;
  carrier: RequestCarrier | undefined;
  #aborted = false;
  #paused = false;
  #reason: Error | null = null;

  constructor(opts: Dispatcher.DispatchOptions, handler: H1Handler, authority: string) {
    this.handler = handler;
    const method = opts.method;
    const headers = (opts.headers ?? {}) as HeaderMap;
    const body = opts.body ?? null;
    this.body = body as Buffer | NodeJS.ReadableStream | null;
    this.isHead = method === 'HEAD';
    let head = '';
    let framing: Framing = 0;
    try {
      if (!isToken(method, 0, method.length)) throw new InvalidHeaderError(':method');
      if (!isRequestTarget(opts.path)) throw new InvalidHeaderError(':path');
      framing = framingOf(body, headers);
      const host = headers['host'] === undefined && !hasHost(headers) ? `host: ${authority}\r\n` : '';
      head = `${method} ${opts.path} HTTP/1.1\r\n${host}${headerLines(headers)}${framingLine(framing, ZERO_LENGTH_METHODS.has(method))}\r\n`;
    } catch (err) {
      this.invalid = err as Error;
    }
    this.head = head;
    this.framing = framing;
  }

  get aborted(): boolean {
    return this.#aborted;
  }

  get paused(): boolean {
    return this.#paused;
  }

  get reason(): Error | null {
    return this.#reason;
  }

  abort(reason: Error): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    this.carrier?.abortRequest(this, reason);
  }

  pause(): void {
    this.#paused = true;
    this.carrier?.pauseReading();
  }

  resume(): void {
    this.#paused = false;
    this.carrier?.resumeReading();
  }
}

/**
 * The framing a request's body gets: a Buffer its length (which a given content-length must
 * match), a stream the given content-length or else chunked, none 0.
 */
function framingOf(body: unknown, headers: HeaderMap): Framing {
  const given = headers['content-length'];
  const declared = given === undefined ? -1 : typeof given === 'string' ? decimal(given) : -2;
  if (declared < 0 && given !== undefined) throw new InvalidHeaderError('content-length');
  if (body === null || body === undefined) {
    if (declared > 0) throw new BodyLengthError(declared, 0);
    return 0;
  }
  if (Buffer.isBuffer(body)) {
    if (declared >= 0 && declared !== body.length) throw new BodyLengthError(declared, body.length);
    return body.length;
  }
  return declared >= 0 ? declared : 'chunked';
}

/** Origin form or absolute form as a request line carries it: visible latin1, no spaces. */
function isRequestTarget(path: string): boolean {
  if (path.length === 0) return false;
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c <= 32 || c === 127 || c > 255) return false;
  }
  return true;
}

/** A `Host` given in another case (looked for only when no `host` is). */
function hasHost(headers: HeaderMap): boolean {
  for (const name in headers) if (name.length === 4 && name.toLowerCase() === 'host') return true;
  return false;
}
