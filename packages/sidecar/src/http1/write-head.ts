import { STATUS_CODES } from 'node:http';
import type { HeaderMap } from '../layers/service';
import { isToken } from './head';

/** A header that cannot be written: a name that is no token, or a value with a control character. */
export class InvalidHeaderError extends Error {
  readonly code = 'WEFT_INVALID_HEADER';
  constructor(name: string) {
    super(`invalid header "${name.slice(0, 100)}": names must be tokens, values must hold no control characters`);
  }
}

/** Fields a head writer frames itself: given ones (names of 10, 14 or 17 characters) are dropped, not written twice. */
const FRAMING = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive']);

/**
 * Names already checked to be tokens: the same few are written on every message, and a property
 * key's lookup here costs less than walking its characters again. Bounded in count and in each
 * name's length (at most 512 x 64 characters), so that made-up names cannot grow it.
 */
const VALID_NAMES = new Set<string>();
const VALID_NAMES_MAX = 512;
const VALID_NAME_LENGTH = 64;

/**
 * `name: value` lines for every header (a repeated field as several lines), each followed by CRLF,
 * as one string: framing fields excepted, which the writer of the head sets itself. Every name
 * and value is checked on the way (a CR or LF in a value would let one header write another).
 */
export function headerLines(headers: HeaderMap): string {
  let out = '';
  for (const name in headers) {
    const value = headers[name] as string | string[];
    const n = name.length;
    // In any case: a caller's `Content-Length` beside the writer's own would frame the body twice.
    if ((n === 10 || n === 14 || n === 17) && (FRAMING.has(name) || FRAMING.has(name.toLowerCase()))) continue;
    if (!VALID_NAMES.has(name)) {
      if (!isToken(name, 0, name.length)) throw new InvalidHeaderError(name);
      if (VALID_NAMES.size < VALID_NAMES_MAX && n <= VALID_NAME_LENGTH) VALID_NAMES.add(name);
    }
    if (typeof value === 'string') {
      if (!isWritableValue(value)) throw new InvalidHeaderError(name);
      out += `${name}: ${value}\r\n`;
    } else {
      for (const v of value) {
        if (!isWritableValue(v)) throw new InvalidHeaderError(name);
        out += `${name}: ${v}\r\n`;
      }
    }
  }
  return out;
}

/** Visible characters, spaces and tabs, and obs-text (written as latin1 bytes: nothing above 255). */
function isWritableValue(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if ((c < 32 && c !== 9) || c === 127 || c > 255) return false;
  }
  return true;
}

/** How a body is framed on the wire: a length (0 for none), or chunked. */
export type Framing = number | 'chunked';

/** `content-length` or `transfer-encoding` for a framing, with their CRLF; no line for no body unless `writeZero`. */
export function framingLine(framing: Framing, writeZero: boolean): string {
  if (framing === 'chunked') return 'transfer-encoding: chunked\r\n';
  return framing > 0 || writeZero ? `content-length: ${framing}\r\n` : '';
}

/** Reason phrases by status, looked up rather than formatted per response. */
const STATUS_LINES = new Map<number, string>();

/** `HTTP/1.1 200 OK` and its CRLF. */
export function statusLine(status: number): string {
  let line = STATUS_LINES.get(status);
  if (line === undefined) {
    line = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n`;
    if (status >= 100 && status <= 999) STATUS_LINES.set(status, line);
  }
  return line;
}

/** Head, whole body and what follows it (a chunked body's end) as one buffer: one write. */
export function withBody(head: string, body: Buffer, tail = ''): Buffer {
  const out = Buffer.allocUnsafe(head.length + body.length + tail.length);
  out.write(head, 0, 'latin1');
  body.copy(out, head.length);
  if (tail !== '') out.write(tail, head.length + body.length, 'latin1');
  return out;
}
