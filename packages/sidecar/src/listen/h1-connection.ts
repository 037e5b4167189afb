import type { Duplex } from 'node:stream';
import { TLSSocket } from 'node:tls';
import { HEADERS } from '@weft/api';
import { CodecDownstream, type ExchangeConnection } from '../http/downstream-h1-codec';
import type { Downstream } from '../http/downstream';
import { rawHead, upgradeDownstream } from '../http/upgrade';
import { HeadError, type ParsedHead } from '../http1/head';
import { CHUNKED, HAND_OVER, MessageReader, type MessageSink } from '../http1/message-reader';
import type { HeaderMap } from '../layers/service';
import type { ListenerLimits } from './mux-listener';

/** What a connection needs from its server (listen/h1-server.ts). */
export interface ConnectionServer {
  readonly limits: ListenerLimits;
  /** `keep-alive: timeout=N` and its CRLF, from the keep-alive timeout. */
  readonly keepAliveHint: string;
  readonly draining: boolean;
  /** The server's coarse clock (ms). */
  readonly now: number;
  /** Runs an exchange (the listener counts it, watches its body, calls the stack). */
  serve(d: CodecDownstream): void;
  /** Runs an Upgrade request, whose connection is the exchange's from now on. */
  serveUpgrade(d: Downstream): void;
  forget(connection: H1Connection): void;
}

/** Where a connection is between its requests, for the server's sweep. */
export const enum ConnectionState {
  /** Waiting for the next request (the keep-alive timeout runs). */
  Idle,
  /** A request head is arriving (the headers timeout runs). */
  Head,
  /** An exchange is under way (its body and answer are bounded elsewhere). */
  Busy,
  Closed,
}

/** Pipelined bytes read ahead of the answer owed are bounded: past this the connection is paused. */
const MAX_READ_AHEAD = 64 * 1024;
const CONTINUE = 'HTTP/1.1 100 Continue\r\n\r\n';

/**
 * One HTTP/1.1 connection served with Weft's own codec (http1/): requests read from the socket
 * (MessageReader), each run as a CodecDownstream while the next one waits (a pipelined request is
 * read only once the answer before it went out), and the connection kept alive between them.
 * Malformed requests get their 400/431/501/505 and the connection closes; CONNECT gets 405; an
 * Upgrade hands the socket to the upgrade path (http/upgrade.ts) with the bytes read past its head.
 * Timeouts are the server's sweep: this records only when its state changed.
 */
export class H1Connection implements MessageSink, ExchangeConnection {
  readonly socket: Duplex;
  readonly #server: ConnectionServer;
  readonly #reader: MessageReader;
  readonly #tls: TLSSocket | null;
  #exchange: CodecDownstream | undefined;
  #upgrade: ParsedHead | undefined;
  #clientEnded = false;
  state = ConnectionState.Head;
  /** When the state began (the server's clock). */
  since: number;

  constructor(server: ConnectionServer, socket: Duplex) {
    this.socket = socket;
    this.#server = server;
    this.#tls = socket instanceof TLSSocket ? socket : null;
    const limits = server.limits;
    this.#reader = new MessageReader(this, true, { maxHeadBytes: limits.maxHeaderBytes, maxHeaderCount: limits.maxHeaderCount });
    this.since = server.now;
    socket.on('data', this.#onData);
    socket.on('end', this.#onEnd);
    socket.on('error', () => undefined); // 'close' follows; the exchange reports what it lost
    socket.on('close', this.#onClose);
    socket.resume(); // a sniffed socket was paused with its first bytes put back
  }

  get draining(): boolean {
    return this.#server.draining;
  }

  get clientEnded(): boolean {
    return this.#clientEnded;
  }

  get keepAliveHint(): string {
    return this.#server.keepAliveHint;
  }

  /** Closes the connection if it carries nothing (draining, or idle too long). */
  closeIfIdle(): boolean {
    if (this.state !== ConnectionState.Idle && !(this.state === ConnectionState.Head && !this.#reader.inMessage)) return false;
    this.#close();
    return true;
  }

  /** The headers timeout ran out: 408, and the connection closes. */
  headersTimedOut(): void {
    this.#refuse(408, 'the request headers did not arrive in time');
  }

  /**
   * The whole request (head and body) did not arrive within the listener's request timeout: 408
   * if no answer began (the exchange is over for the stack too), else the connection is cut.
   */
  requestTimedOut(): void {
    const exchange = this.#exchange;
    if (exchange === undefined || exchange.requestComplete) return;
    if (exchange.headersSent) return void this.socket.destroy();
    this.#exchange = undefined;
    exchange.connectionClosed();
    this.#refuse(408, 'the request did not arrive in time');
  }

  // MessageSink: requests, as the reader finds them.

  onHead(head: ParsedHead): number {
    const refused = refusal(head);
    if (refused) {
      this.#refuse(refused.status, refused.message);
      return HAND_OVER; // read nothing more
    }
    if (head.upgrade !== undefined) {
      this.#upgrade = head;
      return HAND_OVER;
    }
    const headers = head.repeated ? joinRepeated(head.headers) : head.headers;
    const hasBody = head.chunked || head.contentLength > 0;
    if (hasBody && headers['expect'] !== undefined) {
      if (String(headers['expect']).toLowerCase() !== '100-continue') {
        this.#refuse(417, 'the only expectation supported is 100-continue');
        return HAND_OVER;
      }
      this.socket.write(CONTINUE, 'latin1');
    }
    const exchange = new CodecDownstream(this, head, headers, this.#tls, hasBody);
    this.#exchange = exchange;
    this.state = ConnectionState.Busy;
    this.#reader.hold();
    this.#server.serve(exchange);
    return head.chunked ? CHUNKED : hasBody ? head.contentLength : 0;
  }

  onBody(chunk: Buffer): void {
    if (this.#exchange && !this.#exchange.bodyData(chunk)) this.socket.pause();
  }

  onEnd(): void {
    this.#exchange?.bodyEnd();
  }

  onError(err: HeadError): void {
    const exchange = this.#exchange;
    if (exchange && !exchange.requestComplete) {
      // The body's framing broke: the request cannot be completed, nor the connection trusted.
      exchange.bodyFailed(new Error(`the request body is malformed: ${err.message}`));
      this.socket.destroy();
      return;
    }
    if (exchange) this.socket.destroy(); // a malformed request pipelined behind an answer still owed
    else this.#refuse(err.status, err.message);
  }

  // ExchangeConnection: what the exchange tells its connection.

  finished(keepAlive: boolean): void {
    this.#exchange = undefined;
    if (!keepAlive || this.state === ConnectionState.Closed) return this.#close();
    this.state = ConnectionState.Idle;
    this.since = this.#server.now;
    if (this.socket.isPaused()) this.socket.resume();
    this.#reader.release();
  }

  resumeReading(): void {
    if (this.state !== ConnectionState.Closed) this.socket.resume();
  }

  readonly #onData = (chunk: Buffer): void => {
    if (this.state === ConnectionState.Idle) {
      this.state = ConnectionState.Head;
      this.since = this.#server.now;
    }
    this.#reader.push(chunk);
    if (this.#upgrade) this.#handOver(this.#upgrade);
    else if (this.#exchange?.requestComplete && this.#reader.inMessage && this.#reader.pendingBytes > MAX_READ_AHEAD) this.socket.pause();
  };

  readonly #onEnd = (): void => {
    this.#clientEnded = true;
    const exchange = this.#exchange;
    if (exchange === undefined) {
      this.#reader.end();
      return this.#close();
    }
    if (exchange.requestComplete) return; // a client done sending still gets its answer (half-close)
    // The client stopped sending mid-body: the request can never be whole. It left, as far as
    // the exchange is concerned.
    this.#exchange = undefined;
    exchange.connectionClosed();
    this.socket.destroy();
  };

  readonly #onClose = (): void => {
    this.state = ConnectionState.Closed;
    this.#server.forget(this);
    const exchange = this.#exchange;
    this.#exchange = undefined;
    exchange?.connectionClosed();
  };

  #handOver(head: ParsedHead): void {
    this.#upgrade = undefined;
    this.state = ConnectionState.Closed;
    this.#server.forget(this);
    const socket = this.socket;
    socket.off('data', this.#onData);
    socket.off('end', this.#onEnd);
    socket.off('close', this.#onClose);
    socket.pause();
    const headers = head.repeated ? joinRepeated(head.headers) : head.headers;
    this.#server.serveUpgrade(upgradeDownstream({ method: head.method, url: head.target, headers }, socket, this.#reader.rest()));
  }

  /** Answers the sidecar's own refusal of a request and closes the connection. */
  #refuse(status: number, message: string): void {
    this.state = ConnectionState.Closed;
    const body = status === 408 ? '' : `${message}\n`;
    const headers: HeaderMap = { [HEADERS.error]: 'WEFT_ERR_BAD_REQUEST', 'content-type': 'text/plain; charset=utf-8', 'content-length': String(Buffer.byteLength(body)), connection: 'close' };
    if (status === 405) headers['allow'] = 'GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS';
    if (this.socket.writable) this.socket.end(`${rawHead(status, headers)}${body}`);
    else this.socket.destroy();
  }

  #close(): void {
    this.state = ConnectionState.Closed;
    this.socket.end(() => this.socket.destroy());
  }
}

/** Why a request head cannot be served at all, as the status and message answered. */
function refusal(head: ParsedHead): { status: number; message: string } | undefined {
  if (head.method === 'CONNECT') return { status: 405, message: 'CONNECT is not supported: call http://<service>; the sidecar encrypts the hop with mTLS' };
  if (Array.isArray(head.headers['host'])) return { status: 400, message: 'the request has more than one Host header (RFC 9112 section 3.2): send exactly one' };
  if (head.otherCoding) return { status: 501, message: 'the only transfer coding supported on requests is chunked' };
  return undefined;
}

/**
 * Fields that came more than once, folded as Node's HTTP server folds them, so that the layers
 * see the same request whichever parser read it: `set-cookie` stays a list, `cookie` is joined
 * with `; `, fields that may occur only once keep their first value, the rest are joined with `, `.
 */
function joinRepeated(headers: HeaderMap): HeaderMap {
  const out: HeaderMap = {};
  for (const name in headers) {
    const value = headers[name] as string | string[];
    if (typeof value === 'string' || name === 'set-cookie') out[name] = value;
    else if (name === 'cookie') out[name] = value.join('; ');
    else if (SINGLE.has(name)) out[name] = value[0] as string;
    else out[name] = value.join(', ');
  }
  return out;
}

/** Fields Node's HTTP server keeps only the first of. */
const SINGLE = new Set([
  'age', 'authorization', 'content-length', 'content-type', 'etag', 'expires', 'from', 'host', 'if-modified-since', 'if-unmodified-since',
  'last-modified', 'location', 'max-forwards', 'proxy-authorization', 'referer', 'retry-after', 'server', 'user-agent',
]);
