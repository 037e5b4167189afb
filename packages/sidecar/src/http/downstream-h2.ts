import { constants, type IncomingHttpHeaders, type OutgoingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import { PassThrough, type Readable } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { HEADERS } from '@weft/api';
import type { Downstream, Outcome, RespondOptions } from './downstream';
import { ClientClosedError, type ProxyError } from '../layers/errors';
import { grpcErrorHeaders } from './grpc';
import { forwardableHeaders, withoutPseudoHeaders } from './headers';
import { discardBody, type HeaderMap, type ProxyResponse } from '../layers/service';
import { pipeBody, PrematureCloseError } from './pipe-body';
import { endedWithin, takeWholeBody } from './h2-whole-body';

const { NGHTTP2_NO_ERROR, NGHTTP2_INTERNAL_ERROR } = constants;

/**
 * An HTTP/2 stream as a Downstream. Responses go out with the stream API rather than Node's
 * HTTP/1-style compatibility layer so that framing is exact: a response without a body is one
 * HEADERS frame that ends the stream (what gRPC calls trailers-only), and trailers follow the
 * body as a HEADERS frame of their own. Listeners for events a stream emits once ('close',
 * 'finish', 'wantTrailers') are added with `on`: once's wrapper costs an allocation per event.
 */
export function h2Downstream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): Downstream {
  // A stream reset by the client fails with an error that whoever reads it sees; never a crash.
  stream.on('error', () => undefined);
  const session = stream.session;
  let written = false;
  return {
    protocol: 'h2',
    method: text(headers[':method']),
    url: text(headers[':path']),
    authority: headers[':authority'] ?? headers.host,
    headers: withoutPseudoHeaders(headers),
    // The session's socket is a proxy of the TLS socket; it answers getPeerX509Certificate.
    tls: session?.encrypted ? (session.socket as TLSSocket) : null,
    upgrade: undefined,
    takeBody: () => ({ body: bodyOf(stream), length: contentLength(headers['content-length']) }),
    respond: (outcome, options, done) =>
      respondH2(stream, outcome, options, (err) => {
        written = err === undefined;
        done(err);
      }),
    onClose: (listener) => stream.on('close', () => listener(written && stream.rstCode === NGHTTP2_NO_ERROR)),
  };
}

function respondH2(stream: ServerHttp2Stream, outcome: Outcome, options: RespondOptions, done: (err: Error | undefined) => void): void {
  if ('response' in outcome) {
    if (stream.destroyed || stream.closed) {
      discardBody(outcome.response.body);
      done(new ClientClosedError());
      return;
    }
    try {
      sendResponse(stream, outcome.response, options, done);
    } catch (err) {
      discardBody(outcome.response.body);
      stream.close(NGHTTP2_INTERNAL_ERROR);
      done(err as Error);
    }
    return;
  }
  sendError(stream, outcome.error, options);
  done(undefined);
}

function sendResponse(stream: ServerHttp2Stream, response: ProxyResponse, options: RespondOptions, done: (err: Error | undefined) => void): void {
  // One copy: forwardableHeaders makes a new map, which takes the rest in place.
  const out: OutgoingHttpHeaders = forwardableHeaders(response.headers, options.dropMeshHeaders);
  const extra = options.extra;
  for (const name in extra) out[name] = extra[name];
  out[':status'] = response.status;
  const body = response.body;
  if (!body) {
    stream.respond(out, { endStream: true });
    done(undefined);
    return;
  }
  // Wait for trailers only when the upstream can send any: otherwise the last DATA frame ends the
  // stream, and no empty frame follows it.
  const trailers = response.trailers;
  stream.respond(out, { waitForTrailers: trailers !== undefined });
  if (trailers) {
    stream.on('wantTrailers', () => {
      const sent = trailers();
      try {
        // Empty trailers make Node end the stream with an empty DATA frame instead.
        stream.sendTrailers(sent ? forwardableHeaders(sent, options.dropMeshHeaders) : {});
      } catch {
        stream.close(NGHTTP2_INTERNAL_ERROR);
      }
    });
  }
  if (Buffer.isBuffer(body)) {
    // Settled on 'finish', as pipeBody does: before 'close', whose listeners (onClose) read
    // whether the answer was written; a 'close' first means the client reset the stream.
    const onClose = (): void => done(new PrematureCloseError('the client stream'));
    stream.on('finish', () => {
      stream.off('close', onClose);
      done(undefined);
    });
    stream.on('close', onClose);
    stream.end(body);
    return;
  }
  // Back-pressure both ways; a client reset destroys the upstream body, an upstream failure
  // resets the client's stream so that a truncated body never looks complete.
  pipeBody(body, stream, done);
}

/** The sidecar's own error: a trailers-only gRPC status for gRPC, a plain-text answer otherwise. */
function sendError(stream: ServerHttp2Stream, err: ProxyError, options: RespondOptions): void {
  if (err instanceof ClientClosedError || stream.destroyed || stream.closed) return;
  if (stream.headersSent) {
    stream.close(NGHTTP2_INTERNAL_ERROR);
    return;
  }
  if (!writeH2Error(stream, err, options.extra, options.grpc)) return;
  if (!stream.readableEnded) {
    // The answer did not need the rest of the request: ask the client to stop sending it
    // (RST_STREAM NO_ERROR after the complete response, RFC 9113 8.1).
    stream.unpipe();
    stream.resume();
    stream.close(NGHTTP2_NO_ERROR);
  }
}

/**
 * Writes the sidecar's own error as the stream's answer: a trailers-only gRPC status for gRPC, a
 * plain-text body naming the code otherwise. False when the stream could not take it (it is then
 * reset with INTERNAL_ERROR and nothing more is to be done).
 */
export function writeH2Error(stream: ServerHttp2Stream, err: ProxyError, extra: HeaderMap, grpc: boolean): boolean {
  try {
    if (grpc) {
      stream.respond({ ...extra, ...err.responseHeaders, ...grpcErrorHeaders(err), ':status': 200 }, { endStream: true });
    } else {
      const body = `${err.message}\n`;
      stream.respond({
        ...extra,
        ...err.responseHeaders,
        ':status': err.httpStatus,
        'content-type': 'text/plain; charset=utf-8',
        'content-length': Buffer.byteLength(body),
        [HEADERS.error]: err.code,
      });
      stream.end(body);
    }
    return true;
  } catch {
    stream.close(NGHTTP2_INTERNAL_ERROR);
    return false;
  }
}

/**
 * The request body: none; one Buffer when the client ended the stream in the bytes that carried
 * its HEADERS (a unary call: the listener starts an exchange only once that read is done) and it
 * is small (see h2-whole-body); otherwise a stream of its own.
 */
function bodyOf(stream: ServerHttp2Stream): Readable | Buffer | null {
  if (stream.endAfterHeaders) return null;
  return endedWithin(stream) ? takeWholeBody(stream) : guardStream(stream);
}

/** The request body as a stream of its own, so that layers may destroy it without resetting the client. */
function guardStream(stream: ServerHttp2Stream): Readable {
  const body = new PassThrough();
  body.on('error', () => undefined);
  stream.on('error', (err) => body.destroy(err));
  stream.on('close', () => {
    if (!stream.readableEnded) body.destroy(new Error('the client reset the stream during the request body'));
  });
  stream.pipe(body);
  return body;
}

function contentLength(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d+$/.test(value)) return undefined;
  return Number(value);
}

function text(value: string | string[] | undefined): string {
  return typeof value === 'string' ? value : '';
}
