import type { Readable } from 'node:stream';
import { ProxyError } from '../layers/errors';
import { grpcStatusIn } from '../http/grpc';
import type { HeaderMap, ProxyResponse, Service } from '../layers/service';
import type { AttemptState } from '../layers/retry';
import type { ConnectionAddresses } from '../http/downstream';
import type { SpanAttributes, TraceSpan, Tracing } from './trace';
import { incomingContext } from './trace-context';

export interface TracedRequest {
  readonly method: string;
  readonly path: string;
  /** The request's own header map (its edge built it): the trace layers set `traceparent` in it. */
  readonly headers: HeaderMap;
  /** A gRPC call: its span also carries the RPC semantic conventions (`rpc.*`). */
  readonly grpc: boolean;
  readonly record: { traceId: string; traceparent: string; readonly source: string; readonly authority: string; readonly attempts: number };
}

export type WithSpan<R> = R & { readonly span: TraceSpan };

/** The outbound CLIENT span: what a route target reads to name it. */
export interface ClientSpanParams {
  readonly name: string;
  readonly destination: { readonly key: string; readonly service: string; readonly spiffeId: string };
  /** The rule's match entries: their path matches become `http.route`. */
  readonly matches: readonly { readonly path: PathMatch | undefined }[];
}

type PathMatch = { readonly kind: 'exact'; readonly value: string } | { readonly kind: 'prefix'; readonly value: string } | { readonly kind: 'regex'; readonly source: string };

/**
 * `http.route` of a rule: the path template it matches, as written in its Route (an exact path,
 * a prefix followed by `*`, a regex's source), several joined with ` | `; `/*` when it matches
 * any path. Bounded by the config, never a raw request path. Computed once per rule.
 */
export function httpRouteOf(matches: ClientSpanParams['matches']): string {
  if (matches.length === 0 || matches.some((m) => m.path === undefined)) return '/*';
  const templates = matches.map(({ path }) => (path === undefined ? '/*' : path.kind === 'exact' ? path.value : path.kind === 'prefix' ? `${path.value}*` : path.source));
  return [...new Set(templates)].join(' | ');
}

/**
 * Starts the CLIENT span of an outbound request, continuing the app's `traceparent` when it is
 * valid and starting a trace otherwise, and sends the span's own context upstream. A recorded
 * span ends with the response body (or the error); an unsampled request only propagates ids.
 */
export function traceClient<R extends TracedRequest>(params: ClientSpanParams, tracing: Pick<Tracing, 'startSpan'>, next: Service<WithSpan<R>>): Service<R> {
  const name = `outbound ${params.destination.service}`;
  const httpRoute = httpRouteOf(params.matches);
  // OpenTelemetry HTTP (and RPC) client conventions, plus who called whom through which rule.
  const attributesOf = (req: R): SpanAttributes =>
    withRpc(req, {
      'http.request.method': req.method,
      'http.route': httpRoute,
      'url.path': req.path,
      'server.address': req.record.authority,
      'weft.source': req.record.source,
      'weft.destination': params.destination.key,
      'weft.destination.service': params.destination.service,
      'weft.route': params.name,
      'weft.peer.identity': params.destination.spiffeId,
    });
  return (req) => {
    const span = tracing.startSpan(name, 'client', incomingContext(req.headers), attributesOf, req);
    req.record.traceId = span.traceId;
    req.record.traceparent = span.traceparent;
    req.headers['traceparent'] = span.traceparent;
    const sent = next({ ...req, span }); // over the request's own `span: undefined`: see ONE_SHAPE in outbound/types
    return span.recording ? observe(span, sent, req) : sent;
  };
}

/** One child span per attempt under the CLIENT span; the attempt's context goes upstream. */
export function traceAttempt<R extends WithSpan<{ readonly headers: HeaderMap; readonly attempt: AttemptState }>>(name: string, next: Service<R>): Service<R> {
  const attemptName = `${name} attempt`;
  return (req) => {
    const span = req.span.child(attemptName, attemptAttributes, req.attempt);
    // A copy per attempt: an attempt cut off by its per-try timeout may still hold its headers.
    const sent = next({ ...req, headers: { ...req.headers, traceparent: span.traceparent } });
    return span.recording ? observe(span, sent, undefined, req.attempt) : sent;
  };
}

const attemptAttributes = (attempt: AttemptState): SpanAttributes => ({ 'weft.attempt': attempt.number });

/** What the SERVER span reads besides the request: who called, and the connection it came on. */
type ServerTraced = TracedRequest & {
  readonly record: { readonly peerIdentity: string; readonly destination: string };
  /** The connection (TLS; null for plaintext in PERMISSIVE mode): its addresses, read only for a recorded span. */
  readonly socket: ConnectionAddresses | null;
};

/** The inbound SERVER span: continues the caller's context; the app receives the span's own. */
export function traceServer<R extends ServerTraced>(
  service: string,
  tracing: Pick<Tracing, 'startSpan'>,
  next: Service<WithSpan<R>>,
): Service<R> {
  const name = `inbound ${service}`;
  return (req) => {
    const span = tracing.startSpan(name, 'server', incomingContext(req.headers), serverAttributes, req);
    req.record.traceId = span.traceId;
    req.record.traceparent = span.traceparent;
    req.headers['traceparent'] = span.traceparent;
    const sent = next({ ...req, span }); // over the request's own `span: undefined`: see ONE_SHAPE in outbound/types
    return span.recording ? observe(span, sent, req) : sent;
  };
}

function serverAttributes(req: ServerTraced): SpanAttributes {
  const attributes = withRpc(req, {
    'http.request.method': req.method,
    'url.path': req.path,
    'server.address': req.record.authority,
    'weft.source': req.record.source,
    'weft.destination': req.record.destination,
    'weft.peer.identity': req.record.peerIdentity,
  });
  // The caller is the peer sidecar itself (nothing between them), so client.address and
  // network.peer.address are one address.
  const socket = req.socket;
  if (socket?.localPort !== undefined) attributes['server.port'] = socket.localPort;
  if (socket?.remoteAddress !== undefined) {
    attributes['client.address'] = socket.remoteAddress;
    attributes['network.peer.address'] = socket.remoteAddress;
  }
  if (socket?.remotePort !== undefined) attributes['network.peer.port'] = socket.remotePort;
  return attributes;
}

/**
 * RPC semantic conventions for a gRPC call, from its path `/package.Service/Method`; a path of
 * another shape names no service or method (`rpc.system` still says what it was).
 */
function withRpc(req: TracedRequest, attributes: SpanAttributes): SpanAttributes {
  if (!req.grpc) return attributes;
  attributes['rpc.system'] = 'grpc';
  const slash = req.path.indexOf('/', 1);
  if (req.path.charCodeAt(0) === 0x2f && slash > 1 && slash < req.path.length - 1) {
    attributes['rpc.service'] = req.path.slice(1, slash);
    attributes['rpc.method'] = req.path.slice(slash + 1);
  }
  return attributes;
}

/**
 * Ends `span` when the response body is done, or at once on an error. A request's span (`req`)
 * also gets its gRPC status and, on the outbound side, how many attempts it took; an attempt's
 * span names its endpoint. Only recorded spans get here.
 */
function observe(span: TraceSpan, result: Promise<ProxyResponse>, req?: TracedRequest, attempt?: AttemptState): Promise<ProxyResponse> {
  return result.then(
    (res) => {
      if (attempt?.endpoint) span.setAttributes({ 'weft.endpoint': attempt.endpoint });
      // A failed response that the retry layer drops is destroyed unread; its status already says
      // what went wrong, so only a body lost from a response that was otherwise fine is an error.
      endWithBody(res.body, (err) => {
        if (req) span.setAttributes(outcomeAttributes(req, res));
        span.end(res.status, err && res.status < 500 ? 'response body failed' : undefined);
      });
      return res;
    },
    (err: unknown) => {
      if (attempt?.endpoint) span.setAttributes({ 'weft.endpoint': attempt.endpoint });
      if (req) span.setAttributes(outcomeAttributes(req, undefined));
      const e = err instanceof ProxyError ? err : undefined;
      span.end(e?.httpStatus ?? 500, e?.code ?? 'WEFT_ERR_INTERNAL');
      throw err;
    },
  );
}

/** What a request's span learns at its end: the gRPC status (headers or trailers) and the attempts made. */
function outcomeAttributes(req: TracedRequest, res: ProxyResponse | undefined): SpanAttributes {
  const attributes: SpanAttributes = {};
  if (req.record.attempts > 0) {
    attributes['weft.attempts'] = req.record.attempts;
    attributes['weft.retried'] = req.record.attempts > 1;
  }
  if (req.grpc && res) {
    const status = grpcStatusIn(res.headers) || grpcStatusIn(res.trailers?.());
    if (status !== '') attributes['rpc.grpc.status_code'] = Number(status);
  }
  return attributes;
}

/** Ends a span with its response body (at once for none or a whole one, already received). */
function endWithBody(body: Readable | Buffer | null, done: (err: Error | undefined) => void): void {
  if (!body || Buffer.isBuffer(body)) {
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
