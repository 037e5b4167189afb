import type { Readable } from 'node:stream';
import { ProxyError } from '../layers/errors';
import type { HeaderMap, ProxyResponse, Service } from '../layers/http';
import type { AttemptState } from '../layers/retry';
import type { TraceSpan, Tracing } from './trace';
import { parseTraceParent } from './traceparent';

export interface TracedRequest {
  readonly method: string;
  readonly path: string;
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
 * valid and starting a trace otherwise, and sends the span's own context upstream. The span ends
 * with the response body (or the error).
 */
export function traceClient<R extends TracedRequest>(params: ClientSpanParams, tracing: Pick<Tracing, 'startSpan'>, next: Service<WithSpan<R>>): Service<R> {
  const name = `outbound ${params.destination.service}`;
  return (req) => {
    const span = tracing.startSpan(name, 'client', parseTraceParent(req.headers['traceparent']), {
      'http.request.method': req.method,
      'url.path': req.path,
      'weft.destination': params.destination.key,
      'weft.route': params.name,
      'weft.peer.identity': params.destination.spiffeId,
    });
    req.record.traceId = span.traceId;
    return observe(span, next({ ...req, headers: { ...req.headers, traceparent: span.traceparent }, span }));
  };
}

/** One child span per attempt under the CLIENT span; the attempt's context goes upstream. */
export function traceAttempt<R extends WithSpan<{ readonly headers: HeaderMap; readonly attempt: AttemptState }>>(name: string, next: Service<R>): Service<R> {
  return (req) => {
    const span = req.span.child(`${name} attempt`, { 'weft.attempt': req.attempt.number });
    const result = next({ ...req, headers: { ...req.headers, traceparent: span.traceparent } });
    return observe(span, result, (): Record<string, string> => (req.attempt.endpoint ? { 'weft.endpoint': req.attempt.endpoint } : {}));
  };
}

/** The inbound SERVER span: continues the caller's context; the app receives the span's own. */
export function traceServer<R extends TracedRequest & { readonly record: { peerIdentity: string } }>(
  service: string,
  tracing: Pick<Tracing, 'startSpan'>,
  next: Service<WithSpan<R>>,
): Service<R> {
  const name = `inbound ${service}`;
  return (req) => {
    const span = tracing.startSpan(name, 'server', parseTraceParent(req.headers['traceparent']), {
      'http.request.method': req.method,
      'url.path': req.path,
      'weft.peer.identity': req.record.peerIdentity,
    });
    req.record.traceId = span.traceId;
    return observe(span, next({ ...req, headers: { ...req.headers, traceparent: span.traceparent }, span }));
  };
}

/** Ends `span` when the response body is done, or at once on an error. */
function observe(span: TraceSpan, result: Promise<ProxyResponse>, late?: () => Record<string, string>): Promise<ProxyResponse> {
  return result.then(
    (res) => {
      if (late) span.setAttributes(late());
      // A failed response that the retry layer drops is destroyed unread; its status already says
      // what went wrong, so only a body lost from a response that was otherwise fine is an error.
      endWithBody(res.body, (err) => span.end(res.status, err && res.status < 500 ? 'response body failed' : undefined));
      return res;
    },
    (err: unknown) => {
      if (late) span.setAttributes(late());
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
