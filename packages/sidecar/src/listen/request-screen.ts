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
 * What makes an HTTP/1.1 request unfit to proxy before any layer sees it: more header lines than
 * the limit (Node would keep its first 2,000 and drop the rest without a word; `rawHeaders`
 * still holds every line), or more than one `Host` (RFC 9112 3.2: answer 400; Node keeps the
 * first and drops the others, so the app and the router could disagree on the authority). A Host
 * that differs from an absolute-form target is allowed: the target wins (RFC 9112 3.2.2).
 * One pass over the names, looking closer only at four-letter ones.
 */
export function screenHttp1(rawHeaders: readonly string[], limits: HeaderLimits): ProxyError | undefined {
  const n = rawHeaders.length;
  if (n > 2 * limits.maxHeaderCount) return tooManyHeaders(n / 2, limits.maxHeaderCount);
  let hosts = 0;
  for (let i = 0; i < n; i += 2) {
    const name = rawHeaders[i] as string;
    if (name.length === 4 && (name === 'Host' || name.toLowerCase() === 'host') && ++hosts > 1) {
      return new BadRequestError('the request has more than one Host header (RFC 9112 section 3.2): send exactly one');
    }
  }
  return undefined;
}

/**
 * The same limits for an HTTP/2 request, whose header list Node accepts up to a larger bound (see
 * mux-listener): field lines (pseudo-headers aside) and bytes as HTTP/1.1 would count them, so a
 * request over the limit gets 431 whichever protocol carried it.
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
