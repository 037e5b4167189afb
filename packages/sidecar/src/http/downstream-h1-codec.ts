import type { Duplex } from 'node:stream';
import { Readable } from 'node:stream';
import { HEADERS } from '@weft/api';
import type { ParsedHead } from '../http1/head';
import { writeBody } from '../http1/body-writer';
import { framingLine, headerLines, statusLine, withBody, type Framing } from '../http1/write-head';
import { ClientClosedError, type ProxyError } from '../layers/errors';
import { discardBody, type HeaderMap, type ProxyResponse } from '../layers/service';
import type { Downstream, Outcome, PeerCertificateSource, RespondOptions } from './downstream';
import { grpcErrorHeaders } from './grpc';
import { forwardableHeaders } from './headers';
import { PrematureCloseError } from './pipe-body';

/** The connection an exchange runs on (listen/h1-connection.ts), as the exchange sees it. */
export interface ExchangeConnection {
  readonly socket: Duplex;
  /** The listener is draining: this answer closes its connection. */
  readonly draining: boolean;
  /** The client shut its sending side: this answer is the connection's last. */
  readonly clientEnded: boolean;
  /** `keep-alive: timeout=N` and its CRLF: how long an idle connection is kept, so clients reuse it in time. */
  readonly keepAliveHint: string;
  /** The answer was handed to the socket whole (or failed): the connection reads on or closes. */
  finished(keepAlive: boolean): void;
  /** The body's reader wants more (back-pressure released). */
  resumeReading(): void;
}

/**
 * A request body read by Weft's own codec: chunks pushed as the connection reads them, the
 * connection paused while nobody reads (back-pressure). A stream of its own, so a layer that
 * destroys it (a failure before it was sent) leaves the connection intact to carry the answer.
 */
export class RequestBody extends Readable {
  /** The whole body arrived (BodyIdleWatch reads it as IncomingMessage's). */
  complete = false;
  readonly #connection: ExchangeConnection;

  constructor(connection: ExchangeConnection) {
    super({ highWaterMark: 64 * 1024 });
    this.#connection = connection;
    this.on('error', () => undefined); // whoever reads it sees its errors; nobody reading must not crash
  }

  override _read(): void {
    this.#connection.resumeReading();
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.#connection.resumeReading(); // what is left is read and dropped (and the connection closes after the answer)
    callback(err);
  }
}

const EMPTY_BODY = { body: null, length: 0 } as const;

/**
 * One HTTP/1.1 request read by Weft's own codec (listen/h1-connection.ts), as a Downstream: the
 * request as parsed, its body as a RequestBody, and the answer written straight onto the socket
 * (status line, headers, and a whole body in one write; a streamed body with its framing and
 * back-pressure; trailers after a chunked one). The connection carries another request only if
 * this one's body was read to its end and neither side asked to close.
 */
export class CodecDownstream implements Downstream {
  readonly protocol = 'http1' as const;
  readonly method: string;
  readonly url: string;
  readonly authority: string | undefined;
  readonly headers: HeaderMap;
  readonly tls: PeerCertificateSource | null;
  readonly upgrade = undefined;
  readonly #connection: ExchangeConnection;
  readonly #head: ParsedHead;
  readonly #body: RequestBody | null;
  #headersSent = false;
  #over = false;
  #listeners: ((complete: boolean) => void)[] = [];

  constructor(connection: ExchangeConnection, head: ParsedHead, headers: HeaderMap, tls: PeerCertificateSource | null, hasBody: boolean) {
    this.#connection = connection;
    this.#head = head;
    this.method = head.method;
    this.url = head.target;
    this.headers = headers;
    this.authority = headers['host'] as string | undefined;
    this.tls = tls;
    this.#body = hasBody ? new RequestBody(connection) : null;
  }

  /** For BodyIdleWatch: once the answer's head went out, the request body is the app's to bound. */
  get headersSent(): boolean {
    return this.#headersSent;
  }

  /** The body as the connection reads it (for BodyIdleWatch), or null. */
  get body(): RequestBody | null {
    return this.#body;
  }

  takeBody(): { readonly body: Readable | null; readonly length: number | undefined } {
    const body = this.#body;
    if (body === null) return EMPTY_BODY;
    return { body, length: this.#head.chunked ? undefined : this.#head.contentLength };
  }

  onClose(listener: (complete: boolean) => void): void {
    this.#listeners.push(listener);
  }

  respond(outcome: Outcome, options: RespondOptions, done: (err: Error | undefined) => void): void {
    if (this.#over) {
      if ('response' in outcome) discardBody(outcome.response.body);
      return done(undefined);
    }
    try {
      if ('response' in outcome) this.#writeResponse(outcome.response, options, done);
      else {
        this.#writeError(outcome.error, options);
        done(undefined);
      }
    } catch (err) {
      // A header that cannot be written: cut the connection rather than crash.
      if ('response' in outcome) discardBody(outcome.response.body);
      this.#connection.socket.destroy();
      done(err as Error);
    }
  }

  // From the connection.

  /** A chunk of the request body; false when the connection should pause until the body is read. */
  bodyData(chunk: Buffer): boolean {
    const body = this.#body;
    if (body === null || body.destroyed) return true; // dropped: nobody will read it
    return body.push(chunk);
  }

  bodyEnd(): void {
    const body = this.#body;
    if (body === null || body.destroyed) return;
    body.complete = true;
    body.push(null);
  }

  /** The request body broke off (malformed framing, or the client left). */
  bodyFailed(err: Error): void {
    if (this.#body !== null && !this.#body.complete) this.#body.destroy(err);
  }

  /** The connection closed before the answer was written whole. */
  connectionClosed(): void {
    this.bodyFailed(new Error('the client closed the connection during the request body'));
    this.#end(false);
  }

  /** Whether the request body was read to its end (or there was none). */
  get requestComplete(): boolean {
    return this.#body === null || this.#body.complete;
  }

  #writeResponse(response: ProxyResponse, options: RespondOptions, done: (err: Error | undefined) => void): void {
    const status = response.status;
    const body = response.body;
    const headers = forwardableHeaders(response.headers, options.dropMeshHeaders);
    // HEAD, 1xx, 204 and 304 answers carry no body, whatever their headers say (RFC 9112 6.3).
    const bodiless = this.#head.method === 'HEAD' || status < 200 || status === 204 || status === 304;
    let framing: Framing | 'close' = 0;
    let lengthLine = '';
    let trailers: HeaderMap | undefined;
    if (bodiless) {
      discardBody(body);
      const given = headers['content-length'];
      // A HEAD answer says how long the body would be; a 1xx or 204 must not (RFC 9110 8.6).
      if (typeof given === 'string' && this.#head.method === 'HEAD' && status >= 200 && status !== 204) lengthLine = `content-length: ${given}\r\n`;
    } else if (body === null) framing = 0;
    else if (Buffer.isBuffer(body)) {
      // A whole body whose trailers came with it still goes out chunked: trailers need that framing.
      trailers = this.#head.minor === 1 ? nonEmpty(response.trailers?.()) : undefined;
      framing = trailers === undefined ? body.length : 'chunked';
    } else {
      const given = headers['content-length'];
      const length = typeof given === 'string' ? Number(given) : NaN;
      framing = Number.isSafeInteger(length) && length >= 0 ? length : this.#head.minor === 1 ? 'chunked' : 'close';
    }
    const keepAlive = framing !== 'close' && this.#keepAlive();
    const head =
      statusLine(status) +
      headerLines(headers) +
      headerLines(options.extra) +
      (bodiless ? lengthLine : framing === 'close' ? '' : framingLine(framing, status >= 200)) +
      this.#connectionLine(keepAlive) +
      '\r\n';
    const socket = this.#connection.socket;
    this.#headersSent = true;
    if (bodiless || body === null) {
      socket.write(head, 'latin1');
      this.#written(keepAlive);
      return done(undefined);
    }
    if (Buffer.isBuffer(body)) {
      if (trailers === undefined) socket.write(withBody(head, body));
      else socket.write(withBody(`${head}${body.length.toString(16)}\r\n`, body, `\r\n${trailerSection(trailers)}`));
      this.#written(keepAlive);
      return done(undefined);
    }
    socket.write(head, 'latin1');
    const later = response.trailers;
    const lastChunk = later && framing === 'chunked' ? () => trailerSection(later()) : undefined;
    const stop = writeBody(
      body,
      socket,
      framing === 'close' ? 'raw' : framing,
      (err) => {
        this.#stopBody = undefined;
        if (err) {
          // A truncated body must not look complete: the connection is cut.
          body.destroy();
          socket.destroy();
          this.#end(false);
          return done(err);
        }
        if (framing === 'close') socket.end(); // the close is what delimits this body
        this.#written(keepAlive);
        done(undefined);
      },
      lastChunk,
    );
    this.#stopBody = () => {
      stop();
      body.destroy(new PrematureCloseError('the client connection'));
      done(new PrematureCloseError('the client connection'));
    };
  }

  #stopBody: (() => void) | undefined;

  #writeError(err: ProxyError, options: RespondOptions): void {
    if (err instanceof ClientClosedError) return;
    const socket = this.#connection.socket;
    if (this.#headersSent) {
      socket.destroy();
      return;
    }
    let head: string;
    let body = '';
    const keepAlive = this.#keepAlive();
    if (options.grpc) {
      // gRPC over HTTP/1.1 is rare (gRPC requires HTTP/2), but the answer should read the same.
      head = statusLine(200) + headerLines({ ...options.extra, ...err.responseHeaders, ...grpcErrorHeaders(err) }) + 'content-length: 0\r\n';
    } else {
      body = `${err.message}\n`;
      head =
        statusLine(err.httpStatus) +
        headerLines({ ...options.extra, ...err.responseHeaders, 'content-type': 'text/plain; charset=utf-8', [HEADERS.error]: err.code }) +
        `content-length: ${Buffer.byteLength(body)}\r\n`;
    }
    this.#headersSent = true;
    socket.write(`${head}${this.#connectionLine(keepAlive)}\r\n${body}`);
    this.#written(keepAlive);
  }

  /** Another request may follow on this connection once this answer is out. */
  #keepAlive(): boolean {
    const c = this.#connection;
    return !this.#head.close && !c.draining && !c.clientEnded && this.requestComplete;
  }

  #connectionLine(keepAlive: boolean): string {
    if (!keepAlive) return 'connection: close\r\n';
    const hint = this.#connection.keepAliveHint;
    return this.#head.minor === 0 ? `connection: keep-alive\r\n${hint}` : hint;
  }

  #written(keepAlive: boolean): void {
    // A body still arriving when the answer went out cannot be told from the next request: close.
    const reuse = keepAlive && this.requestComplete;
    this.#end(true);
    this.#connection.finished(reuse);
  }

  #end(complete: boolean): void {
    if (this.#over) return;
    this.#over = true;
    if (!complete) this.#stopBody?.();
    const listeners = this.#listeners;
    this.#listeners = [];
    for (const listener of listeners) listener(complete);
  }
}

/** `0`, the trailer fields, the blank line: a chunked body's end. A trailer that cannot be written is dropped. */
function trailerSection(trailers: HeaderMap | undefined): string {
  if (trailers === undefined) return '0\r\n\r\n';
  try {
    return `0\r\n${headerLines(forwardableHeaders(trailers, false))}\r\n`;
  } catch {
    return '0\r\n\r\n';
  }
}

function nonEmpty(headers: HeaderMap | undefined): HeaderMap | undefined {
  if (headers === undefined) return undefined;
  for (const _ in headers) return headers;
  return undefined;
}
