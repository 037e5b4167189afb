import type { Readable } from 'node:stream';
import { ProxyError } from '../layers/errors';
import type { HeaderMap, ProxyResponse, Service } from '../layers/http';
import type { AttemptState } from '../layers/retry';
import type { SpanAttributes, TraceSpan, Tracing } from './trace';
import { parseTraceParent } from './traceparent';

export interface TracedRequest {
  readonly method: string;
  readonly path: string;
  /** The request's own header map (its edge built it): the trace layers set `traceparent` in it. */
  readonly headers: HeaderMap;
  readonly record: { traceId: string };
}

export type WithSpan<R> = R & { readonly span: TraceSpan };

/** The outbound CLIENT span: what a route target reads to name it. */
export interface ClientSpanParams {
  readonly name: string;
  readonly destination: { readonly key: string; readonly service: string; readonly spiffeId: string };
}

/**
 * Starts the CLIENT span of an outbound request, continuing the app's `traceparent` when it is
 * valid and starting a trace otherwise, and sends the span's own context upstream. A recorded
 * span ends with the response body (or the error); an unsampled request only propagates ids.
 */
export function traceClient<R extends TracedRequest>(params: ClientSpanParams, tracing: Pick<Tracing, 'startSpan'>, next: Service<WithSpan<R>>): Service<R> {
  const name = `outbound ${params.destination.service}`;
  const attributesOf = (req: R): SpanAttributes => ({
    'http.request.method': req.method,
    'url.path': req.path,
    'weft.destination': params.destination.key,
    'weft.route': params.name,
    'weft.peer.identity': params.destination.spiffeId,
  });
  return (req) => {
    const span = tracing.startSpan(name, 'client', parseTraceParent(req.headers['traceparent']), attributesOf, req);
    req.record.traceId = span.traceId;
    req.headers['traceparent'] = span.traceparent;
    const sent = next({ ...req, span }); // over the request's own `span: undefined`: see ONE_SHAPE in outbound/types
    return span.recording ? observe(span, sent) : sent;
  };
}

/** One child span per attempt under the CLIENT span; the attempt's context goes upstream. */
export function traceAttempt<R extends WithSpan<{ readonly headers: HeaderMap; readonly attempt: AttemptState }>>(name: string, next: Service<R>): Service<R> {
  const attemptName = `${name} attempt`;
  return (req) => {
    const span = req.span.child(attemptName, attemptAttributes, req.attempt);
    // A copy per attempt: an attempt cut off by its per-try timeout may still hold its headers.
    const sent = next({ ...req, headers: { ...req.headers, traceparent: span.traceparent } });
    return span.recording ? observe(span, sent, req.attempt) : sent;
  };
}

const attemptAttributes = (attempt: AttemptState): SpanAttributes => ({ 'weft.attempt': attempt.number });

/** The inbound SERVER span: continues the caller's context; the app receives the span's own. */
export function traceServer<R extends TracedRequest & { readonly record: { peerIdentity: string } }>(
  service: string,
  tracing: Pick<Tracing, 'startSpan'>,
  next: Service<WithSpan<R>>,
): Service<R> {
  const name = `inbound ${service}`;
  return (req) => {
    const span = tracing.startSpan(name, 'server', parseTraceParent(req.headers['traceparent']), serverAttributes, req);
    req.record.traceId = span.traceId;
    req.headers['traceparent'] = span.traceparent;
    const sent = next({ ...req, span }); // over the request's own `span: undefined`: see ONE_SHAPE in outbound/types
    return span.recording ? observe(span, sent) : sent;
  };
}

const serverAttributes = (req: TracedRequest & { readonly record: { peerIdentity: string } }): SpanAttributes => ({
  'http.request.method': req.method,
  'url.path': req.path,
  'weft.peer.identity': req.record.peerIdentity,
});

/** Ends `span` when the response body is done, or at once on an error; an attempt's span also names its endpoint. */
function observe(span: TraceSpan, result: Promise<ProxyResponse>, attempt?: AttemptState): Promise<ProxyResponse> {
  return result.then(
    (res) => {
      if (attempt?.endpoint) span.setAttributes({ 'weft.endpoint': attempt.endpoint });
      // A failed response that the retry layer drops is destroyed unread; its status already says
      // what went wrong, so only a body lost from a response that was otherwise fine is an error.
      endWithBody(res.body, (err) => span.end(res.status, err && res.status < 500 ? 'response body failed' : undefined));
      return res;
    },
    (err: unknown) => {
      if (attempt?.endpoint) span.setAttributes({ 'weft.endpoint': attempt.endpoint });
      const e = err instanceof ProxyError ? err : undefined;
      span.end(e?.httpStatus ?? 500, e?.code ?? 'WEFT_ERR_INTERNAL');
      throw err;
    },
  );
}

function endWithBody(body: Readable | null, done: (err: Error | undefined) => void): void {
  if (!body) {
    done(undefined);
    return;
  }
  // Not stream.finished(): on an IncomingMessage it also waits for 'close', which on a keep-alive
  // connection comes well after the last byte, and the span would outlast what it measures.
  let settled = false;
  const settle = (err: Error | undefined): void => {
    if (settled) return;
    settled = true;
    done(err);
  };
  body.once('end', () => settle(undefined));
  body.once('error', (err: Error) => settle(err));
  body.once('close', () => settle(body.readableEnded ? undefined : new Error('response body closed before its end')));
}
