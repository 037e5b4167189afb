import type { Duplex, Readable } from 'node:stream';
import type { HeaderMap } from '../layers/service';
import { writeBody } from './body-writer';
import { withBody } from './write-head';
import type { HeadError, ParsedHead } from './head';
import { CHUNKED, MessageReader, UNTIL_CLOSE, type MessageSink, type ReaderLimits } from './message-reader';
import type { ConnectionReads } from './connection-reads';
import type { H1Request, RequestCarrier } from './pool-request';

/** A connection to the server closed or failed while a request was on it. */
export class H1SocketError extends Error {
  readonly code = 'WEFT_UPSTREAM_SOCKET';
  constructor(message: string, options?: { cause: unknown }) {
    super(message, options);
  }
}

/** What a connection tells its pool. */
export interface ConnectionOwner {
  /** The pool's coarse clock (ms). */
  readonly now: number;
  /** The connection finished an exchange and can carry another. */
  released(connection: H1Connection): void;
  /** The connection closed (or never opened); it carries nothing any more. */
  gone(connection: H1Connection): void;
}

/** Response heads are bounded like a request's (LISTENER_LIMITS): neither a peer sidecar nor the app is trusted to be small. */
const RESPONSE_LIMITS: ReaderLimits = { maxHeadBytes: 64 * 1024, maxHeaderCount: 500 };
/** An idle connection is closed this long before the server's own keep-alive deadline, so that it is never raced. */
export const KEEP_ALIVE_MARGIN_MS = 1000;
const NO_TRAILERS: HeaderMap = Object.freeze({}) as HeaderMap;
const REQUEST_CONTEXT = Object.freeze({});

/**
 * One HTTP/1.1 keep-alive connection to a server (a peer sidecar, or the local app), carrying one request at a time: writes
 * the request (head and a whole body in one write), reads the answer with Weft's own codec
 * (http1/), and hands it to the request's handler as undici would (onResponseStart, Data, End,
 * Error). After a complete exchange it goes back to its pool; anything that leaves its framing
 * in doubt (an abort, a body not fully sent, a response read to the close, `Connection: close`,
 * a malformed response) closes it instead.
 */
export class H1Connection implements MessageSink, RequestCarrier {
  readonly #owner: ConnectionOwner;
  readonly #reader: MessageReader;
  #socket: Duplex | undefined;
  #req: H1Request | undefined;
  #reusable = true;
  /** The current request's bytes were all handed to the socket. */
  #written = false;
  #stopBody: (() => void) | undefined;
  /** A 1xx answer is being read: its end is not the exchange's. */
  #informational = false;
  #responding = false;
  #error: Error | undefined;
  /** When the connection went idle, or its request was sent (the pool's coarse clock, ms). */
  since = 0;
  /** The server's own keep-alive hint (ms), or 0. */
  keepAliveMs = 0;

  constructor(owner: ConnectionOwner, first: H1Request) {
    this.#owner = owner;
    this.#reader = new MessageReader(this, false, RESPONSE_LIMITS);
    this.#req = first;
  }

  /**
   * Waiting for a response head: its request is on the wire whole, no answer has begun. An upload
   * still streaming is not waiting (it may take longer than the headers timeout, and rightly so).
   */
  get awaitingHead(): boolean {
    return this.#req !== undefined && this.#written && !this.#responding;
  }

  get busy(): boolean {
    return this.#req !== undefined;
  }

  /** An idle connection that can still carry a request (the server may have closed it meanwhile). */
  get usable(): boolean {
    const socket = this.#socket;
    return this.#reusable && socket !== undefined && socket.writable && !socket.destroyed;
  }

  connected(socket: Duplex, reads?: ConnectionReads): void {
    this.#socket = socket;
    if (reads) reads.attach((chunk) => this.#onData(chunk));
    else socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('end', () => this.#onEnd());
    socket.on('error', (err: Error) => (this.#error ??= err));
    socket.on('close', () => this.#onClose());
    const first = this.#req as H1Request;
    this.#req = undefined;
    this.send(first);
  }

  /** The connection could not be made: the request it was made for fails with the cause. */
  failedToConnect(err: Error): void {
    const req = this.#req;
    this.#req = undefined;
    this.#owner.gone(this);
    if (req && !req.aborted) req.handler.onResponseError(req, err);
  }

  /** Writes a request. One its handler abandoned while it waited is dropped, and the next is taken. */
  send(req: H1Request): void {
    const socket = this.#socket as Duplex;
    try {
      req.handler.onRequestStart(req, REQUEST_CONTEXT);
    } catch {
      this.#owner.released(this);
      return;
    }
    if (req.aborted) {
      // Aborted from onRequestStart: nothing was written, the connection is as it was.
      req.handler.onResponseError(req, req.reason as Error);
      this.#owner.released(this);
      return;
    }
    this.#req = req;
    req.carrier = this;
    this.since = this.#owner.now;
    this.#written = false;
    this.#responding = false;
    const body = req.body;
    if (body === null) {
      socket.write(req.head, 'latin1');
      this.#written = true;
    } else if (Buffer.isBuffer(body)) {
      socket.write(withBody(req.head, body));
      this.#written = true;
    } else {
      socket.write(req.head, 'latin1');
      this.#stopBody = writeBody(body as Readable, socket, req.framing, (err) => this.#bodyWritten(req, err));
    }
  }

  /** Closes an idle connection (or this one once its exchange is over). */
  close(): void {
    this.#reusable = false;
    const socket = this.#socket;
    // Ended, then destroyed once that is written: a server that keeps its half open must not keep the connection in the pool.
    if (this.#req === undefined) socket?.end(() => socket.destroy());
  }

  /** Closes the connection now; the request on it fails with `err` itself (a headers timeout says so, not "closed"). */
  destroy(err: Error): void {
    const req = this.#req;
    if (req !== undefined) return this.#fail(req, err);
    this.#error ??= err;
    this.#reusable = false;
    this.#socket?.destroy();
  }

  // RequestCarrier: what the current request's controller does.

  abortRequest(req: H1Request, reason: Error): void {
    if (this.#req !== req) return;
    this.#detach();
    this.#reusable = false;
    this.#socket?.destroy();
    req.handler.onResponseError(req, reason);
  }

  pauseReading(): void {
    this.#socket?.pause();
  }

  resumeReading(): void {
    this.#socket?.resume();
  }

  // MessageSink: the response, as the reader finds it.

  onHead(head: ParsedHead): number {
    const req = this.#req;
    if (req === undefined) {
      this.destroy(new H1SocketError('the server sent a response nobody asked for'));
      return 0;
    }
    const status = head.status;
    if (status < 200) {
      if (status === 101) {
        this.#fail(req, new H1SocketError('the server switched protocols unasked'));
        return 0;
      }
      this.#informational = true; // 100 Continue, 103 Early Hints: the answer follows
      return 0;
    }
    this.#responding = true;
    if (head.close) this.#reusable = false;
    if (head.keepAliveMs > 0) {
      this.keepAliveMs = head.keepAliveMs;
      // The server may close it before the pool's sweep would: not reused, never raced.
      if (head.keepAliveMs <= KEEP_ALIVE_MARGIN_MS) this.#reusable = false;
    }
    let framing: number;
    if (req.isHead || status === 204 || status === 304) framing = 0;
    else if (head.chunked) framing = CHUNKED;
    else if (head.otherCoding || head.contentLength < 0) {
      framing = UNTIL_CLOSE;
      this.#reusable = false;
    } else framing = head.contentLength;
    req.handler.onResponseStart(req, status, head.headers, '');
    return framing;
  }

  onBody(chunk: Buffer): void {
    const req = this.#req;
    if (req !== undefined) req.handler.onResponseData(req, chunk);
  }

  onEnd(trailers: HeaderMap | undefined): void {
    if (this.#informational) {
      this.#informational = false;
      return;
    }
    const req = this.#req;
    if (req === undefined) return;
    if (!this.#written) this.#reusable = false; // answered before its body was sent: the rest cannot follow
    this.#detach();
    req.handler.onResponseEnd(req, trailers ?? NO_TRAILERS);
    this.#settle();
  }

  onError(err: HeadError): void {
    const req = this.#req;
    const error = new H1SocketError(`the server's response is malformed: ${err.message}`, { cause: err });
    if (req) this.#fail(req, error);
    else this.destroy(error);
  }

  #bodyWritten(req: H1Request, err: Error | undefined): void {
    this.#stopBody = undefined;
    if (this.#req !== req) return;
    if (err) return this.#fail(req, err);
    this.#written = true;
    this.since = this.#owner.now; // the headers timeout counts from the last byte sent
  }

  /** The exchange is over and the connection whole: back to the pool, or closed. */
  #settle(): void {
    const socket = this.#socket as Duplex;
    if (!this.#reusable || this.#reader.inMessage) {
      socket.destroy();
      return;
    }
    if (socket.isPaused()) socket.resume(); // paused for the last request's reader: the next answer must flow
    this.#owner.released(this);
  }

  #detach(): void {
    const req = this.#req;
    if (req) req.carrier = undefined;
    this.#req = undefined;
    this.#stopBody?.();
    this.#stopBody = undefined;
  }

  #fail(req: H1Request, err: Error): void {
    this.#detach();
    this.destroy(err);
    if (!req.aborted) req.handler.onResponseError(req, err);
  }

  #onData(chunk: Buffer): void {
    // Nothing is owed while no request is on the connection: bytes now (even a stray CRLF) would
    // be read as the start of the next request's answer.
    if (this.#req === undefined) return this.destroy(new H1SocketError('the server sent bytes nobody asked for'));
    this.#reader.push(chunk);
  }

  #onEnd(): void {
    // A response delimited by the close ends here; anything else in flight was cut off.
    const whole = this.#reader.end();
    const req = this.#req;
    this.#reusable = false;
    if (req) this.#fail(req, new H1SocketError(whole ? 'the server closed the connection before it answered' : 'the server closed the connection mid-response'));
    else this.#socket?.destroy();
  }

  #onClose(): void {
    const req = this.#req;
    if (req) this.#fail(req, new H1SocketError('the connection to the server closed', this.#error ? { cause: this.#error } : undefined));
    this.#owner.gone(this);
  }
}
