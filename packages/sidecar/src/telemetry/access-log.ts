import type { Writable } from 'node:stream';
import type { RequestRecord } from './record';

/**
 * One JSON line per request on the sidecar's stdout (MeshConfig `accessLog`), carrying the trace
 * ID so that a log line leads to its trace. The query string is left out: it often carries
 * tokens.
 */
export function writeAccessLog(out: Writable, record: RequestRecord, durationMs: number): void {
  const line = {
    time: new Date(record.startTime).toISOString(),
    direction: record.direction,
    method: record.method,
    path: record.path,
    authority: record.authority,
    source: record.source,
    destination: record.destination,
    route: record.route || undefined,
    status: record.status,
    error: record.errorCode || undefined,
    attempts: record.attempts > 1 ? record.attempts : undefined,
    endpoint: record.endpoint || undefined,
    peer: record.peerIdentity || undefined,
    durationMs: Math.round(durationMs * 1000) / 1000,
    traceId: record.traceId || undefined,
  };
  out.write(`${JSON.stringify(line)}\n`);
}
