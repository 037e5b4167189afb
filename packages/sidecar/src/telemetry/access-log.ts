import type { Writable } from 'node:stream';
import type { RequestRecord } from './record';

/**
 * One JSON line per request on the sidecar's stdout (MeshConfig `accessLog`), carrying the trace
 * and span ids so that a log line leads to its span. Nothing secret: the path is logged without
 * its query string (which often carries tokens), and no header is logged at all (Authorization,
 * cookies, API keys). Names follow the list in snake_case; a field with nothing to say
 * is left out.
 */
export function writeAccessLog(out: Writable, record: RequestRecord, durationMs: number): void {
  const line = {
    time: new Date(record.startTime).toISOString(),
    direction: record.direction,
    source: record.source,
    destination: record.destination,
    route: record.route || undefined,
    method: record.method,
    authority: record.authority,
    path: record.path,
    protocol: record.protocol || undefined,
    status: record.status,
    grpc_status: record.grpcStatus || undefined,
    error: record.errorCode || undefined,
    duration_ms: Math.round(durationMs * 1000) / 1000,
    attempts: record.attempts || undefined,
    bytes_in: lengthOf(record.requestLength),
    bytes_out: lengthOf(record.responseLength) ?? (record.responseBodyBytes >= 0 ? record.responseBodyBytes : undefined),
    endpoint: record.endpoint || undefined,
    peer_identity: record.peerIdentity || undefined,
    trace_id: record.traceId || undefined,
    span_id: record.traceparent === '' ? undefined : record.traceparent.slice(36, 52),
  };
  out.write(`${JSON.stringify(line)}\n`);
}

/** A `content-length` as a number; undefined when the body's length was not announced. */
function lengthOf(header: string | string[] | undefined): number | undefined {
  if (typeof header !== 'string') return undefined;
  const n = Number(header);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}
