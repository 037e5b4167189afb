import { constants, type ClientHttp2Stream, type OutgoingHttpHeaders } from 'node:http2';
import type { Readable } from 'node:stream';
import { BadRequestError } from '../layers/errors';
import { H2ConnectTimeoutError, type H2StreamOpener } from './h2-connection';
import { withoutPseudoHeaders } from './headers';
import { type HeaderMap, type ProxyResponse } from '../layers/service';
import type { CancelSignal } from '../layers/cancel';

const { NGHTTP2_CANCEL, NGHTTP2_REFUSED_STREAM, NGHTTP2_FLAG_END_STREAM, NGHTTP2_DEFAULT_WEIGHT } = constants;

/**
 * Stream options with every field Node fills in itself (its defaults): Node copies the object and
 * adds whichever is missing, a new object shape per request (about 9 µs of the client sidecar's
 * CPU per gRPC call at 500 req/s, `perf`/`--cpu-prof`) where a full one is only validated.
 */
const WITH_BODY = Object.freeze({ endStream: false, weight: NGHTTP2_DEFAULT_WEIGHT, parent: 0, exclusive: false, silent: false });
const WITHOUT_BODY = Object.freeze({ ...WITH_BODY, endStream: true });

/** A request as an HTTP/2 exchange sends it; `host` becomes `:authority`. */
export interface H2Request {
  readonly method: string;
  readonly target: string;
  readonly headers: HeaderMap;
  readonly body: Readable | Buffer | null;
  readonly signal: CancelSignal;
}

/**
 * Turns a failure before the response headers into the caller's error. `processed` is false when
 * the peer surely did not act on the request (no connection, a refused stream, a GOAWAY that left
 * it out), which makes it safe to retry whatever the method.
 */
export type H2Failure = (cause: Error, processed: boolean) => Error;

/**
 * Sends one request as a stream on `session` and resolves once the response headers are in. The
 * body streams on with back-pressure; a response whose HEADERS frame ended the stream (a gRPC
 * trailers-only answer) has no body and keeps `grpc-status` in its headers. Trailers are
 * collected for whoever writes the response out. Aborting the signal cancels the stream.
 */
export function h2Exchange(session: H2StreamOpener, req: H2Request, fail: H2Failure, onSent: () => void): Promise<ProxyResponse> {
  return new Promise((resolve, reject) => {
    if (req.signal.aborted) return reject(req.signal.reason as Error);
    const noBody = req.body === null || (Buffer.isBuffer(req.body) && req.body.length === 0);
    let stream: ClientHttp2Stream;
    try {
      stream = session.request(h2Headers(req), noBody ? WITHOUT_BODY : WITH_BODY);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      reject(e.code?.startsWith('ERR_HTTP2_INVALID_') ? new BadRequestError(`the request cannot be forwarded: ${e.message}`) : fail(e, false));
      return;
    }
    let state: 'waiting' | 'sent' | 'answered' = 'waiting';
    let trailers: HeaderMap | undefined;
    const onAbort = (): void => {
      stream.close(NGHTTP2_CANCEL);
      if (state !== 'answered') reject(req.signal.reason as Error);
    };
    req.signal.addEventListener('abort', onAbort, { once: true });
    // `on`, not `once`, for events a stream emits at most once: once's wrapper is an object, a
    // bound function and a call per event, on every request.
    stream.on('ready', () => {
      state = 'sent';
      onSent();
    });
    stream.on('response', (headers, flags) => {
      state = 'answered';
      const ended = (flags & NGHTTP2_FLAG_END_STREAM) !== 0;
      if (ended) stream.resume(); // nothing to read; let the stream close
      resolve({ status: Number(headers[':status']), headers: withoutPseudoHeaders(headers), body: ended ? null : stream, trailers: () => trailers });
    });
    stream.on('trailers', (t) => (trailers = withoutPseudoHeaders(t)));
    // After the headers the body carries a failure to whoever reads it; before, the promise does.
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (state === 'answered' || req.signal.aborted) return;
      const cause = causeOf(err);
      const refused = stream.rstCode === NGHTTP2_REFUSED_STREAM || err.code === 'ERR_HTTP2_GOAWAY_SESSION' || cause instanceof H2ConnectTimeoutError;
      reject(fail(cause, state === 'sent' && !refused));
    });
    stream.on('close', () => {
      req.signal.removeEventListener('abort', onAbort);
      if (state !== 'answered') reject(fail(new Error(`the stream closed (code ${stream.rstCode}) before a response`), state === 'sent' && stream.rstCode !== NGHTTP2_REFUSED_STREAM));
    });
    const body = req.body;
    if (body === null || noBody) return;
    if (Buffer.isBuffer(body)) stream.end(body);
    else {
      body.on('error', () => stream.close(NGHTTP2_CANCEL));
      body.pipe(stream);
    }
  });
}

/** The request's headers with its pseudo-headers, in one copy (Node copies them once more). */
function h2Headers(req: H2Request): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = { ':method': req.method, ':path': req.target, ':scheme': 'http' };
  const fields = req.headers;
  for (const name in fields) {
    const value = fields[name];
    if (name !== 'host') headers[name] = value;
    else if (value !== undefined) headers[':authority'] = Array.isArray(value) ? value[0] : value;
  }
  return headers;
}

/** A stream cancelled because its session failed carries the session's error as its cause. */
function causeOf(err: NodeJS.ErrnoException): Error {
  return err.code === 'ERR_HTTP2_STREAM_CANCEL' && err.cause instanceof Error ? err.cause : err;
}
