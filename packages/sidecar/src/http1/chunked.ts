import type { HeaderMap } from '../layers/service';
import { HeadError, parseHead } from './head';

/** Longest chunk-size line (digits and extensions) and trailer section accepted. */
const MAX_SIZE_LINE = 1024;
const MAX_TRAILERS = 16 * 1024;
/** Largest chunk: 2^53 - 1 would do for a number, but nobody sends more than this in one chunk. */
const MAX_CHUNK_DIGITS = 12;

const SIZE = 0;
const EXTENSION = 1;
const SIZE_LF = 2;
const DATA = 3;
const DATA_CR = 4;
const DATA_LF = 5;
const TRAILERS = 6;
/** Whitespace after a chunk size: only an extension or the line's end may follow. */
const SIZE_WS = 7;

const CR = 13;
const LF = 10;

/**
 * Decodes a chunked body (RFC 9112 7.1) from a connection's reads, byte by byte only where the
 * framing is (size lines, CRLFs, trailers): chunk data is handed on as slices of the read, never
 * copied. Extensions are skipped; trailers are parsed like a head's fields. Errors are HeadErrors
 * (400), as for a malformed head.
 */
export class ChunkedDecoder {
  #state = SIZE;
  #digits = 0;
  #size = 0;
  #lineBytes = 0;
  #trailerText = '';
  #trailerLine = 0;

  constructor(
    readonly onData: (chunk: Buffer) => void,
    /** `more`: bytes follow the body's end in the read that ended it. */
    readonly onEnd: (trailers: HeaderMap | undefined, more: boolean) => void,
  ) {}

  /** Starts a new body. */
  reset(): void {
    this.#state = SIZE;
    this.#digits = this.#size = this.#lineBytes = this.#trailerLine = 0;
    this.#trailerText = '';
  }

  /**
   * Reads from `buf` at `at`: returns where the body ended (after its trailers; onEnd has run),
   * or -1 when all of `buf` was consumed and more is needed.
   */
  decode(buf: Buffer, at: number): number {
    let i = at;
    const n = buf.length;
    while (i < n) {
      const state = this.#state;
      if (state === DATA) {
        const take = Math.min(this.#size, n - i);
        this.onData(i === 0 && take === n ? buf : buf.subarray(i, i + take));
        i += take;
        this.#size -= take;
        if (this.#size === 0) this.#state = DATA_CR;
        continue;
      }
      const c = buf[i] as number;
      i++;
      if (state === SIZE) {
        const digit = hexValue(c);
        if (digit >= 0) {
          if (++this.#digits > MAX_CHUNK_DIGITS) throw new HeadError(400, 'chunk size too large');
          this.#size = this.#size * 16 + digit;
        } else if (this.#digits === 0) throw new HeadError(400, 'malformed chunk size');
        else if (c === CR) this.#state = SIZE_LF;
        else if (c === 59 /* ; */) this.#state = EXTENSION;
        else if (c === 32 || c === 9) this.#state = SIZE_WS;
        else throw new HeadError(400, 'malformed chunk size');
        this.#lineBytes++;
      } else if (state === SIZE_WS) {
        if (c === 59) this.#state = EXTENSION;
        else if (c === CR) this.#state = SIZE_LF;
        else if (c !== 32 && c !== 9) throw new HeadError(400, 'malformed chunk size'); // `5 5`: no size another parser would agree on
        if (++this.#lineBytes > MAX_SIZE_LINE) throw new HeadError(400, 'chunk extensions too long');
      } else if (state === EXTENSION) {
        if (c === CR) this.#state = SIZE_LF;
        else if (c === LF) throw new HeadError(400, 'a line not ended by CRLF');
        if (++this.#lineBytes > MAX_SIZE_LINE) throw new HeadError(400, 'chunk extensions too long');
      } else if (state === SIZE_LF) {
        if (c !== LF) throw new HeadError(400, 'a line not ended by CRLF');
        this.#digits = this.#lineBytes = 0;
        this.#state = this.#size === 0 ? TRAILERS : DATA;
      } else if (state === DATA_CR) {
        if (c !== CR) throw new HeadError(400, 'chunk data longer than its size');
        this.#state = DATA_LF;
      } else if (state === DATA_LF) {
        if (c !== LF) throw new HeadError(400, 'a line not ended by CRLF');
        this.#state = SIZE;
      } else {
        // TRAILERS: lines up to an empty one. Collected as text (they are rare and small), then parsed as fields.
        const end = buf.indexOf(LF, i - 1);
        const stop = end < 0 ? n : end + 1;
        this.#trailerText += buf.toString('latin1', i - 1, stop);
        if (this.#trailerText.length > MAX_TRAILERS) throw new HeadError(431, 'trailers too large');
        i = stop;
        if (end < 0) continue;
        const text = this.#trailerText;
        // Refused at once: a section ended by a bare LF would otherwise take the next message for trailers.
        if (text.charCodeAt(text.length - 2) !== CR) throw new HeadError(400, 'a line not ended by CRLF');
        if (text.length - this.#trailerLine === 2 && text.endsWith('\r\n')) return this.#finish(text.slice(0, this.#trailerLine), i, i < n);
        this.#trailerLine = text.length;
      }
    }
    return -1;
  }

  #finish(text: string, at: number, more: boolean): number {
    this.reset();
    // The trailer section is parsed as the fields of a head behind a dummy status line.
    const trailers = text === '' ? undefined : parseHead(`HTTP/1.1 200 \r\n${text.slice(0, -2)}`, false, { maxHeaderCount: 100 }).headers;
    this.onEnd(trailers, more);
    return at;
  }
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}
