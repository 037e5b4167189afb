import type { HeaderMap } from '../layers/service';
import { ChunkedDecoder } from './chunked';
import { HeadError, parseHead, type HeadLimits, type ParsedHead } from './head';

/** How a message's body is delimited, as a sink answers a head: a length (0: none), or one of these. */
export const CHUNKED = -1;
export const UNTIL_CLOSE = -2;
/** Stop reading: the connection is handed over as it is (an accepted Upgrade); see MessageReader.rest. */
export const HAND_OVER = -3;

/** Who a MessageReader reports to. */
export interface MessageSink {
  /** A head arrived: how its body is delimited (see above). */
  onHead(head: ParsedHead): number;
  onBody(chunk: Buffer): void;
  /** The message is whole (trailers only after a chunked body). */
  onEnd(trailers: HeaderMap | undefined): void;
  /** The bytes are no HTTP/1.1 message (a HeadError: 400, 431, 501 or 505); the reader reads no more. */
  onError(err: HeadError): void;
}

export interface ReaderLimits extends HeadLimits {
  /** Bytes a head may take, start line included; more is refused with 431. */
  readonly maxHeadBytes: number;
}

const HEAD_END = Buffer.from('\r\n\r\n');
const EMPTY = Buffer.alloc(0);

/**
 * Finds HTTP/1.1 messages in a connection's reads, split anywhere: heads are parsed whole (one
 * latin1 string each), bodies handed on as slices of the reads, by length, chunked, or up to the
 * connection's end. Several messages in one read are read in turn; `hold` stops at the next
 * message boundary (a server owes an answer first) and `release` reads on.
 */
export class MessageReader {
  readonly #sink: MessageSink;
  readonly #isRequest: boolean;
  readonly #limits: ReaderLimits;
  readonly #chunked: ChunkedDecoder;
  #pending: Buffer = EMPTY;
  /** Body bytes still to come (length-delimited), or CHUNKED / UNTIL_CLOSE, or 0 between messages. */
  #body = 0;
  #inMessage = false;
  #held = false;
  #stopped = false;
  #reading = false;
  /** While reading: whether bytes followed the message that just ended in the same read. */
  #more = false;

  constructor(sink: MessageSink, isRequest: boolean, limits: ReaderLimits) {
    this.#sink = sink;
    this.#isRequest = isRequest;
    this.#limits = limits;
    this.#chunked = new ChunkedDecoder(
      (chunk) => sink.onBody(chunk),
      (trailers, more) => this.#end(trailers, more),
    );
  }

  /**
   * Whether a message has begun and not ended (its head is partly read, or its body is). Asked from
   * a sink's onEnd, it says whether that message's end is all there was.
   */
  get inMessage(): boolean {
    return this.#inMessage || (this.#reading ? this.#more : this.#pending.length > 0);
  }

  /** Bytes read and not yet parsed (a partial head, or messages held back). */
  get pendingBytes(): number {
    return this.#pending.length;
  }

  /** Whether reading stopped for good (an error, or a hand-over). */
  get stopped(): boolean {
    return this.#stopped;
  }

  push(chunk: Buffer): void {
    if (this.#stopped) return;
    this.#pending = this.#pending.length > 0 ? Buffer.concat([this.#pending, chunk]) : chunk;
    // Held, the message being read still gets its body: only the next one waits.
    if (!this.#reading && (!this.#held || this.#inMessage)) this.#read();
  }

  /** Reads no further message after the current one until `release`. */
  hold(): void {
    this.#held = true;
  }

  release(): void {
    if (!this.#held) return;
    this.#held = false;
    if (this.#pending.length > 0 && !this.#stopped && !this.#reading) this.#read();
  }

  /**
   * The connection's read side ended. A body delimited by the close ends here; any other message
   * cut short is reported as an error (returns false). Returns true when nothing was cut.
   */
  end(): boolean {
    if (this.#stopped) return true;
    if (this.#inMessage && this.#body === UNTIL_CLOSE) {
      this.#end(undefined, false);
      return true;
    }
    return !this.inMessage;
  }

  /** What was read past a message handed over (HAND_OVER): the start of the new protocol's bytes. */
  rest(): Buffer {
    const rest = this.#pending;
    this.#pending = EMPTY;
    return rest;
  }

  #read(): void {
    this.#reading = true;
    try {
      this.#readMessages();
    } catch (err) {
      if (!(err instanceof HeadError)) throw err;
      this.#stopped = true;
      this.#pending = EMPTY;
      this.#sink.onError(err);
    } finally {
      this.#reading = false;
    }
  }

  #readMessages(): void {
    let buf = this.#pending;
    let at = 0;
    while (at < buf.length && !this.#stopped) {
      const body = this.#body;
      if (this.#inMessage) {
        if (body === CHUNKED) {
          const end = this.#chunked.decode(buf, at);
          at = end < 0 ? buf.length : end;
        } else if (body === UNTIL_CLOSE) {
          this.#sink.onBody(at === 0 ? buf : buf.subarray(at));
          at = buf.length;
        } else {
          const take = Math.min(body, buf.length - at);
          this.#body -= take;
          this.#sink.onBody(at === 0 && take === buf.length ? buf : buf.subarray(at, at + take));
          at += take;
          if (this.#body === 0) this.#end(undefined, at < buf.length);
        }
        continue;
      }
      if (this.#held) break;
      // Between messages: a client may send an empty line before a request (RFC 9112 2.2).
      if (this.#isRequest && buf[at] === 13 && buf[at + 1] === 10) {
        at += 2;
        continue;
      }
      const end = buf.indexOf(HEAD_END, at);
      if (end < 0) {
        if (buf.length - at > this.#limits.maxHeadBytes) throw new HeadError(431, `a head over ${this.#limits.maxHeadBytes} bytes`);
        break;
      }
      if (end - at > this.#limits.maxHeadBytes) throw new HeadError(431, `a head over ${this.#limits.maxHeadBytes} bytes`);
      const head = parseHead(buf.toString('latin1', at, end), this.#isRequest, this.#limits);
      at = end + 4;
      this.#inMessage = true;
      const framing = this.#sink.onHead(head);
      if (framing === HAND_OVER) {
        this.#stopped = true;
        break;
      }
      this.#body = framing;
      if (framing === CHUNKED) this.#chunked.reset();
      else if (framing === 0) this.#end(undefined, at < buf.length);
    }
    this.#pending = at >= buf.length ? EMPTY : at === 0 ? buf : buf.subarray(at);
  }

  #end(trailers: HeaderMap | undefined, more: boolean): void {
    this.#inMessage = false;
    this.#more = more;
    this.#body = 0;
    this.#sink.onEnd(trailers);
  }
}
