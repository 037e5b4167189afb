import type { HeaderMap } from '../layers/service';
import { parseTraceParent, SAMPLING_DEFERRED, type TraceParent } from './traceparent';

/**
 * The caller's trace context: W3C `traceparent` when the request has one, else B3 (Zipkin's
 * propagation, still sent by apps instrumented the older way: the single `b3` header, or the
 * `x-b3-*` headers). A B3 context is continued as if it had come as a traceparent; the next hop
 * gets a traceparent (the app's own B3 headers pass on unchanged, as do `tracestate` and
 * `baggage`). An invalid traceparent starts a new trace, as the W3C spec says, and B3 is then
 * not consulted.
 */
export function incomingContext(headers: HeaderMap): TraceParent | undefined {
  const traceparent = headers['traceparent'];
  if (traceparent !== undefined) return parseTraceParent(traceparent);
  const single = headers['b3'];
  if (single !== undefined) return typeof single === 'string' ? parseB3Single(single) : undefined;
  const traceId = headers['x-b3-traceid'];
  if (traceId === undefined) return undefined;
  return b3Context(traceId, headers['x-b3-spanid'], b3Sampling(headers['x-b3-sampled'], headers['x-b3-flags']));
}

const TRACE_ID = /^(?:[0-9a-f]{16}|[0-9a-f]{32})$/;
const SPAN_ID = /^[0-9a-f]{16}$/;
const ZERO = /^0+$/;

/** `{TraceId}-{SpanId}[-{SamplingState}[-{ParentSpanId}]]`; a bare sampling state carries no context to continue. */
function parseB3Single(header: string): TraceParent | undefined {
  const [traceId, spanId, sampling] = header.trim().toLowerCase().split('-');
  const flags = sampling === undefined ? SAMPLING_DEFERRED : sampling === '1' || sampling === 'd' ? 1 : sampling === '0' ? 0 : undefined;
  return flags === undefined ? undefined : b3Context(traceId, spanId, flags);
}

/** `x-b3-flags: 1` is debug, which implies sampled; no decision at all is left to this sidecar. */
function b3Sampling(sampled: string | string[] | undefined, debug: string | string[] | undefined): number {
  if (debug === '1' || sampled === '1' || sampled === 'true') return 1;
  if (sampled === '0' || sampled === 'false') return 0;
  return SAMPLING_DEFERRED;
}

function b3Context(traceId: string | string[] | undefined, spanId: string | string[] | undefined, flags: number): TraceParent | undefined {
  if (typeof traceId !== 'string' || typeof spanId !== 'string') return undefined;
  const trace = traceId.trim().toLowerCase();
  const span = spanId.trim().toLowerCase();
  if (!TRACE_ID.test(trace) || !SPAN_ID.test(span) || ZERO.test(trace) || ZERO.test(span)) return undefined;
  // A 64-bit B3 trace id is the low half of a 128-bit one (what OpenTelemetry's B3 propagator does).
  return { traceId: trace.padStart(32, '0'), spanId: span, flags };
}
