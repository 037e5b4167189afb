import { performance } from 'node:perf_hooks';

export type Direction = 'inbound' | 'outbound';

/** Where a request's time goes; a timeout error names the phase it ran out in. */
export type Phase = 'routing' | 'fault delay' | 'retry backoff' | 'queue' | 'connect' | 'response headers' | 'local app';

/**
 * The facts about one request that telemetry reports when it ends. The edge layer creates it;
 * inner layers fill in what they learn (destination, route, attempts, endpoint, phase). It is
 * the one mutable object on the request path, and only layers of that request write to it.
 */
export class RequestRecord {
  readonly startedAt = performance.now();
  readonly startTime = Date.now();
  source = 'unknown';
  destination = 'unknown';
  route = '';
  /** The HTTP status the client got (a gRPC error answered by the sidecar is a 200, as on the wire). */
  status = 0;
  /** `grpc-status` of a gRPC request (from the response headers or trailers), '' for anything else. */
  grpcStatus = '';
  /** What the client spoke: `http1` or `h2`. */
  protocol = '';
  /** `x-weft-error` code when the sidecar answered with an error itself. */
  errorCode = '';
  attempts = 0;
  /** Whether the app is told `attempts` in `x-weft-attempts` (Route retries.attemptsHeader). */
  attemptsHeader = true;
  traceId = '';
  /** The traceparent this hop sent on (its span id is this hop's span), '' before the trace layer. */
  traceparent = '';
  endpoint = '';
  /** The caller's SPIFFE ID (inbound) or the destination's (outbound). */
  peerIdentity = '';
  phase: Phase = 'routing';
  /**
   * The request's and the response's `content-length` as sent (kept as the header's own value,
   * parsed only by the access log); undefined for a body of unannounced length (chunked, HTTP/2
   * without the header) or before the response.
   */
  requestLength: string | string[] | undefined = undefined;
  responseLength: string | string[] | undefined = undefined;
  /**
   * Bytes of a response body of unannounced length that passed to the client, counted only while
   * the access log is on (see countBody in http/exchange); -1 when not counted.
   */
  responseBodyBytes = -1;
  /** Path without query, and lower-case host without port; filled in once the request line is read. */
  path = '';
  authority = '';

  constructor(
    readonly direction: Direction,
    readonly method: string,
  ) {}

  elapsedMs(): number {
    return performance.now() - this.startedAt;
  }
}
