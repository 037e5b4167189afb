import type { IncomingMessage, ServerResponse } from 'node:http';
import { PassThrough, type Readable } from 'node:stream';
import { HEADERS } from '@weft/api';
import { ClientClosedError, type ProxyError } from '../layers/errors';
import { forwardableHeaders } from './headers';
import { discardBody, type HeaderMap, type ProxyResponse } from '../layers/service';
import { pipeBody, PrematureCloseError } from './pipe-body';

/**
 * Writes a proxied response: status, forwardable headers plus `extra`, then the body streamed
 * with back-pressure. If the app goes away, the upstream body is destroyed (which aborts the
 * upstream request); if the upstream body fails midway, the app's connection is cut, because a
 * truncated body must not look complete. `done` receives the body error, if any.
 */
export function sendResponse(
  res: ServerResponse,
  response: ProxyResponse,
  dropMeshHeaders: boolean,
  extra: HeaderMap,
  done: (err: Error | undefined) => void,
): void {
  res.writeHead(response.status, { ...forwardableHeaders(response.headers, dropMeshHeaders), ...extra });
  const body = response.body;
  if (!body) {
    res.end();
    done(undefined);
    return;
  }
  const trailers = response.trailers;
  if (Buffer.isBuffer(body)) {
    // The whole body is here: it goes out with the headers in one write, trailers known.
    if (trailers) addTrailers(res, trailers());
    res.once('close', () => done(res.writableFinished ? undefined : new PrematureCloseError('the client connection')));
    res.end(body);
    return;
  }
  // Registered before pipe's own 'end' listener, so the trailers are set when it ends `res`.
  // Node sends them only on a chunked response and drops them otherwise (HTTP/1.1 allows no more).
  if (trailers) body.once('end', () => addTrailers(res, trailers()));
  pipeBody(body, res, done);
}

function addTrailers(res: ServerResponse, trailers: HeaderMap | undefined): void {
  if (!trailers) return;
  try {
    res.addTrailers(forwardableHeaders(trailers, false));
  } catch {
    // A trailer Node refuses to write is dropped; the body itself already went out intact.
  }
}

/**
 * Writes whatever a stack produced, and never throws: a response that cannot be written (a header
 * Node refuses, a socket already gone) cuts the connection instead of crashing the process.
 */
export function answer(
  req: IncomingMessage,
  res: ServerResponse,
  outcome: { response: ProxyResponse } | { error: ProxyError },
  dropMeshHeaders: boolean,
  extra: HeaderMap,
  onBodyError: (err: Error) => void,
): void {
  try {
    if ('response' in outcome) sendResponse(res, outcome.response, dropMeshHeaders, extra, (err) => err && onBodyError(err));
    else sendError(req, res, outcome.error, extra);
  } catch (err) {
    if ('response' in outcome) discardBody(outcome.response.body);
    res.destroy(err as Error);
  }
}

/**
 * Answers with the sidecar's own error: the status of its class, its stable code in
 * `x-weft-error`, and its message as a plain-text body. After headers went out there is nothing
 * left to say but to cut the connection.
 */
export function sendError(req: IncomingMessage, res: ServerResponse, err: ProxyError, extra: HeaderMap): void {
  if (err instanceof ClientClosedError || res.destroyed) return;
  if (res.headersSent) {
    res.destroy(err);
    return;
  }
  const body = `${err.message}\n`;
  // A request body nobody read must not be parsed as the next request on this connection.
  if (!req.complete) res.shouldKeepAlive = false;
  res.writeHead(err.httpStatus, {
    ...extra,
    ...err.responseHeaders,
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    [HEADERS.error]: err.code,
  });
  res.end(body);
  if (!req.complete) {
    req.unpipe(); // a guarded body would pause the request again; discard what is left
    req.resume();
  }
}

/**
 * The request body as handed to the layers: a stream of its own, so that when a layer or undici
 * destroys it after a failure, the app's socket stays intact and can still receive the error.
 */
export function guardBody(req: IncomingMessage): Readable {
  const body = new PassThrough();
  // A body nobody reads yet (the request failed before it was sent) may still be destroyed with
  // an error when the client leaves; without a listener that error would crash the process.
  body.on('error', () => undefined);
  req.on('error', (err) => body.destroy(err));
  req.on('close', () => {
    if (!req.complete) body.destroy(new Error('the client closed the connection during the request body'));
  });
  req.pipe(body);
  return body;
}
