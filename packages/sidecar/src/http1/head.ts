import type { HeaderMap } from '../layers/service';

/**
 * One HTTP/1.1 message head, parsed: the start line's parts and the header fields, with what the
 * framing of the body and the connection need already read out of them (RFC 9112). The parser
 * fills one of these per message; nothing is parsed again later on the request path.
 */
export interface ParsedHead {
  /** Requests: the method and the request target as sent. Responses: ''. */
  readonly method: string;
  readonly target: string;
  /** Responses: the status code. Requests: 0. */
  readonly status: number;
  /** `HTTP/1.0` (1.0) or `HTTP/1.1` (1.1). */
  readonly minor: 0 | 1;
  /**
   * Field names lower-cased; a name that came more than once holds its values in order (an array),
   * as undici hands a response's headers up.
   */
  readonly headers: HeaderMap;
  /** Content-Length, or -1 when there is none. */
  readonly contentLength: number;
  /** Transfer-Encoding's last coding is `chunked`. */
  readonly chunked: boolean;
  /** A Transfer-Encoding other than chunked last (a request with one is refused; a response is read to its close). */
  readonly otherCoding: boolean;
  /** The connection closes after this message: `Connection: close`, or HTTP/1.0 without keep-alive. */
  readonly close: boolean;
  /** `Upgrade` when `Connection` names it (lower-cased), else undefined. */
  readonly upgrade: string | undefined;
  /** Responses: the `Keep-Alive: timeout=N` hint in ms, or 0. */
  readonly keepAliveMs: number;
  /** Some field name came more than once (its values are an array in `headers`). */
  readonly repeated: boolean;
}

/** Why a head was refused: the status a server answers with, and what was wrong. */
export class HeadError extends Error {
  constructor(
    readonly status: 400 | 431 | 501 | 505,
    message: string,
  ) {
    super(message);
  }
}

/** What a head may hold; more is refused with 431. */
export interface HeadLimits {
  readonly maxHeaderCount: number;
}

/**
 * Parses a head from `text` (latin1, from the start line up to but not including the blank line's
 * CRLF CRLF; one string per message, the fields are slices of it). Lines must end in CRLF: a bare
 * CR or LF, a field without a name, a name that is no token, whitespace before a colon, obsolete
 * line folding, conflicting lengths, and Content-Length beside Transfer-Encoding (both request
 * smuggling vectors), and a NUL anywhere are all refused. Throws HeadError.
 */
export function parseHead(text: string, isRequest: boolean, limits: HeadLimits): ParsedHead {
  // A NUL is refused wherever it is (RFC 9110 5.5: reject or replace); one native scan of the head.
  if (text.indexOf('\u0000') >= 0) throw new HeadError(400, 'a NUL in the head');
  let eol = lineEnd(text, 0);
  const line = text.slice(0, eol);
  let method = '';
  let target = '';
  let status = 0;
  let minor: 0 | 1;
  if (isRequest) {
    const sp1 = line.indexOf(' ');
    const sp2 = line.indexOf(' ', sp1 + 1);
    if (sp1 <= 0 || sp2 < 0 || sp2 === sp1 + 1) throw new HeadError(400, 'malformed request line');
    method = line.slice(0, sp1);
    if (!isToken(method, 0, method.length)) throw new HeadError(400, 'malformed method');
    target = line.slice(sp1 + 1, sp2);
    minor = versionOf(line, sp2 + 1, line.length);
  } else {
    // `HTTP/1.1 200 OK`: the reason phrase may be empty or missing.
    if (line.length < 12 || line.charCodeAt(8) !== 32 || (line.length > 12 && line.charCodeAt(12) !== 32)) throw new HeadError(400, 'malformed status line');
    minor = versionOf(line, 0, 8);
    status = threeDigits(line, 9);
  }

  const headers: HeaderMap = {};
  let count = 0;
  let contentLength = -1;
  let chunked = false;
  let otherCoding = false;
  let transferEncoding = false;
  let connection = '';
  let keepAlive = '';
  let upgrade: string | undefined;
  let repeated = false;
  while (eol < text.length) {
    const start = eol + 2;
    eol = lineEnd(text, start);
    if (++count > limits.maxHeaderCount) throw new HeadError(431, `more than ${limits.maxHeaderCount} header fields`);
    const colon = text.indexOf(':', start);
    if (colon <= start || colon > eol) throw new HeadError(400, 'malformed header field');
    const name = fieldName(text, start, colon);
    const value = fieldValue(text, colon + 1, eol);
    if (!isFieldValue(value)) throw new HeadError(400, `a control character in the value of ${name}`);
    const prior = headers[name];
    if (typeof prior === 'string') {
      repeated = true;
      headers[name] = [prior, value];
    } else if (typeof prior === 'object') {
      repeated = true;
      prior.push(value);
    }
    // Undefined, or what every object inherits (`constructor`, `toString`): the name's first field.
    else headers[name] = value;
    // Only names of these lengths frame the message: every other field is stored and left alone.
    const n = name.length;
    if (n === 14 && name === 'content-length') {
      const length = decimal(value);
      if (length < 0 || (contentLength >= 0 && length !== contentLength)) throw new HeadError(400, 'invalid Content-Length');
      contentLength = length;
    } else if (n === 17 && name === 'transfer-encoding') {
      transferEncoding = true;
      const last = lastCoding(value);
      chunked = last === 'chunked';
      otherCoding = !chunked;
    } else if (n === 10 && name === 'connection') {
      connection = connection === '' ? value : `${connection},${value}`;
    } else if (n === 10 && name === 'keep-alive') {
      keepAlive = value;
    } else if (n === 7 && name === 'upgrade') {
      upgrade = value.toLowerCase();
    }
  }
  if (transferEncoding && contentLength >= 0) throw new HeadError(400, 'both Content-Length and Transfer-Encoding');
  if (transferEncoding && minor === 0) throw new HeadError(400, 'Transfer-Encoding in an HTTP/1.0 message');
  const tokens = connection === '' ? '' : connection.toLowerCase();
  const close = minor === 0 ? !hasToken(tokens, 'keep-alive') : hasToken(tokens, 'close');
  return {
    method,
    target,
    status,
    minor,
    headers,
    contentLength,
    chunked,
    otherCoding,
    close,
    upgrade: upgrade !== undefined && hasToken(tokens, 'upgrade') ? upgrade : undefined,
    keepAliveMs: keepAlive === '' || isRequest ? 0 : keepAliveTimeout(keepAlive),
    repeated,
  };
}

/** The index of the CR that ends the line starting at `from` (or the text's end); a bare CR or LF is refused. */
function lineEnd(text: string, from: number): number {
  const cr = text.indexOf('\r', from);
  const lf = text.indexOf('\n', from);
  if (cr < 0 && lf < 0) return text.length;
  if (cr < 0 || lf !== cr + 1) throw new HeadError(400, 'a line not ended by CRLF');
  return cr;
}

function versionOf(text: string, from: number, to: number): 0 | 1 {
  if (to - from !== 8 || !text.startsWith('HTTP/1.', from)) throw new HeadError(to - from === 8 && text.startsWith('HTTP/', from) ? 505 : 400, 'unsupported HTTP version');
  const minor = text.charCodeAt(from + 7);
  if (minor === 49) return 1;
  if (minor === 48) return 0;
  throw new HeadError(505, 'unsupported HTTP version');
}

function threeDigits(text: string, at: number): number {
  let status = 0;
  for (let i = at; i < at + 3; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) throw new HeadError(400, 'malformed status code');
    status = status * 10 + (c - 48);
  }
  if (status < 100) throw new HeadError(400, 'malformed status code');
  return status;
}

/**
 * Names already read, lower-cased, in a small table by a case-blind hash of the name's characters.
 * A peer sends the same few names on every message (nginx `Content-Type`, a client's
 * `User-Agent`): a name found here is neither sliced nor lower-cased again (its characters are
 * compared with the known name, which also proves them a token), and, being the string used as
 * a key before, it spares V8 looking a fresh string up in its string table when it becomes a
 * property key. A slot holds one name (a collision replaces it) of at most NAME_CACHED_LENGTH
 * characters, so the table stays under 32 KB whatever names a client makes up; entries are flat
 * copies, so none keeps a head's text alive.
 */
const NAME_SLOTS = 512;
const NAME_CACHED_LENGTH = 64;
const knownNames: (string | undefined)[] = new Array<string | undefined>(NAME_SLOTS).fill(undefined);

/**
 * The field name, lower-cased: checked to be a token (which also refuses whitespace before the
 * colon and obsolete line folding), and never a name that would reach an object's prototype.
 */
function fieldName(text: string, start: number, colon: number): string {
  const length = colon - start;
  if (length > NAME_CACHED_LENGTH) return checkedFieldName(text, start, colon);
  let hash = length;
  for (let i = start; i < colon; i++) hash = (Math.imul(hash, 31) + (text.charCodeAt(i) | 0x20)) | 0;
  const slot = hash & (NAME_SLOTS - 1);
  const known = knownNames[slot];
  if (known !== undefined && known.length === length && sameName(text, start, known)) return known;
  const lower = Buffer.from(checkedFieldName(text, start, colon), 'latin1').toString('latin1'); // flat: no slice of the head
  knownNames[slot] = lower;
  return lower;
}

/** Whether `text` at `start` holds `known` (a lower-case token) in any letter case. */
function sameName(text: string, start: number, known: string): boolean {
  for (let i = 0; i < known.length; i++) {
    const c = text.charCodeAt(start + i);
    const k = known.charCodeAt(i);
    if (c !== k && !(c >= 65 && c <= 90 && c + 32 === k)) return false;
  }
  return true;
}

function checkedFieldName(text: string, start: number, colon: number): string {
  let upper = false;
  for (let i = start; i < colon; i++) {
    const c = text.charCodeAt(i);
    if (c >= 65 && c <= 90) upper = true;
    else if (c > 127 || TOKEN[c] !== 1) throw new HeadError(400, 'malformed header field name');
  }
  const name = text.slice(start, colon);
  const lower = upper ? name.toLowerCase() : name;
  if (lower === '__proto__') throw new HeadError(400, 'malformed header field name');
  return lower;
}

/**
 * The value between `from` and `to` without its surrounding whitespace, as `trim()` gives it, in
 * one slice: spaces and tabs (the OWS every value has) are skipped here, and only a value that
 * begins or ends with another whitespace character takes `trim()`'s second copy.
 */
function fieldValue(text: string, from: number, to: number): string {
  let start = from;
  let end = to;
  while (start < end && isOws(text.charCodeAt(start))) start++;
  while (end > start && isOws(text.charCodeAt(end - 1))) end--;
  const value = text.slice(start, end);
  return start < end && (isOtherSpace(text.charCodeAt(start)) || isOtherSpace(text.charCodeAt(end - 1))) ? value.trim() : value;
}

function isOws(c: number): boolean {
  return c === 32 || c === 9;
}

/** Whitespace that `trim()` removes besides space and tab, within latin1 (CR and LF end lines, so never here). */
function isOtherSpace(c: number): boolean {
  return c === 11 || c === 12 || c === 160;
}

/** No control characters but horizontal tab (RFC 9110 5.5): a NUL or an escape must not reach an app. */
export function isFieldValue(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if ((c < 32 && c !== 9) || c === 127) return false;
  }
  return true;
}

/** Token characters (RFC 9110 5.6.2), by code. */
const TOKEN = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~") TOKEN[c.charCodeAt(0)] = 1;
for (let c = 48; c <= 57; c++) TOKEN[c] = 1;
for (let c = 65; c <= 90; c++) TOKEN[c] = 1;
for (let c = 97; c <= 122; c++) TOKEN[c] = 1;

export function isToken(text: string, from: number, to: number): boolean {
  if (to <= from) return false;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c > 127 || TOKEN[c] !== 1) return false;
  }
  return true;
}

/** A non-negative decimal of at most 15 digits (safe as a number), or -1. */
export function decimal(value: string): number {
  if (value.length === 0 || value.length > 15) return -1;
  let n = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 48 || c > 57) return -1;
    n = n * 10 + (c - 48);
  }
  return n;
}

function lastCoding(value: string): string {
  const comma = value.lastIndexOf(',');
  return (comma < 0 ? value : value.slice(comma + 1)).trim().toLowerCase();
}

/** Whether a lower-cased, comma-separated list holds `token`. */
function hasToken(list: string, token: string): boolean {
  if (list === token) return true; // what nearly every message carries: no split
  // `keep-alive` asked whether it says `close`: no split, no array.
  if (list === '' || !list.includes(token)) return false;
  for (const part of list.split(',')) if (part.trim() === token) return true;
  return false;
}

/**
 * The last `Keep-Alive` value read and what it said: a peer sends the same one on every answer
 * (Weft's listeners say `timeout=65`), so it is parsed once, not per response.
 */
let lastKeepAlive = '';
let lastKeepAliveMs = 0;

function keepAliveTimeout(value: string): number {
  if (value !== lastKeepAlive) {
    lastKeepAliveMs = parseKeepAlive(value);
    lastKeepAlive = value;
  }
  return lastKeepAliveMs;
}

function parseKeepAlive(value: string): number {
  for (const part of value.toLowerCase().split(',')) {
    const [key, seconds] = part.split('=');
    if (key?.trim() === 'timeout' && seconds !== undefined) {
      const n = decimal(seconds.trim());
      return n > 0 ? n * 1000 : 0;
    }
  }
  return 0;
}
