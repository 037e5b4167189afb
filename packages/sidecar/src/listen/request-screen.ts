import { constants, type ServerHttp2Stream } from 'node:http2';
import { writeH2Error } from '../http/downstream-h2';
import { BadRequestError, type ProxyError } from '../layers/errors';

const { NGHTTP2_NO_ERROR } = constants;

/** The header limits a request is screened against (a slice of ListenerLimits). */
export interface HeaderLimits {
  readonly maxHeaderBytes: number;
  readonly maxHeaderCount: number;
}

/**
 * The header limits for an HTTP/2 request, whose header list Node accepts up to a larger bound (see
 * mux-listener): field lines (pseudo-headers aside) and bytes as HTTP/1.1 would count them, so a
 * request over the limit gets 431 whichever protocol carried it (HTTP/1.1's own codec enforces
 * the same limits as it reads a head, and refuses a second Host: listen/h1-connection.ts).
 */
export function screenH2(rawHeaders: readonly string[], limits: HeaderLimits): ProxyError | undefined {
  let count = 0;
  let bytes = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] as string;
    if (name.charCodeAt(0) !== 58 /* ':' */) count += 1;
    bytes += name.length + (rawHeaders[i + 1] as string).length + 4; // "name: value\r\n"
  }
  if (count > limits.maxHeaderCount) return tooManyHeaders(count, limits.maxHeaderCount);
  if (bytes > limits.maxHeaderBytes) {
    return new BadRequestError(`the request headers take ${bytes} bytes; at most ${limits.maxHeaderBytes} are accepted: send smaller headers`, 431);
  }
  return undefined;
}

function tooManyHeaders(count: number, max: number): ProxyError {
  return new BadRequestError(`the request has ${count} header fields; at most ${max} are accepted: send fewer headers`, 431);
}

/** Answers an HTTP/2 stream with the sidecar's own error, then stops the request body still coming (RFC 9113 8.1). */
export function refuseStream(stream: ServerHttp2Stream, err: ProxyError): void {
  stream.on('error', () => undefined);
  if (!writeH2Error(stream, err, NO_HEADERS, false)) return;
  if (!stream.endAfterHeaders) {
    stream.resume();
    stream.close(NGHTTP2_NO_ERROR);
  }
}

const NO_HEADERS = Object.freeze({});
