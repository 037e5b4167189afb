import type { Readable } from 'node:stream';
import type { CompiledConfig } from '../config/types';
import type { HttpProtocol } from '../http/downstream';
import type { HeaderMap } from '../layers/service';
import type { RequestRecord } from '../telemetry/record';
import type { CancelSignal } from '../layers/cancel';
import type { CompiledEndpoint, CompiledService } from '../config/types';
import type { AttemptState } from '../layers/retry';
import type { TraceSpan } from '../telemetry/trace';

/**
 * A request as the outbound layers see it after `accept`. Immutable except `record`; a layer
 * that changes something passes a copy (`{ ...req, signal }`) to the next one.
 *
 * ONE_SHAPE: the fields that layers below fill in (`service`, `span`, `attempt`, `endpoint`) are
 * there from the start, undefined, so every copy only overrides keys its source has. On Node.js
 * 20 (V8 11.3) a spread that adds a key (`{ ...req, service }` on an object without `service`)
 * takes a slow runtime path, 1-1.5 us per copy on a request, and leaves an object that is slow to
 * copy again; a spread over the same keys is a fast clone of one hidden class (about 0.03 us).
 * Each layer still declares only the slice it reads, and its `Discovered<R>`, `WithSpan<R>`...
 * type says the field is set below it.
 */
export interface OutboundRequest {
  readonly method: string;
  /** Path and query, as sent upstream (origin form). */
  readonly target: string;
  /** Path without the query: what route rules match. */
  readonly path: string;
  /** Lower-case host the app named, without port: the key into the authority table. */
  readonly authority: string;
  /** Forwardable headers: hop-by-hop and `x-weft-*` ones removed. */
  readonly headers: HeaderMap;
  readonly body: Readable | Buffer | null;
  /** Content-Length when the app declared one; undefined for a chunked body. */
  readonly bodyLength: number | undefined;
  /** The config this request runs on from start to end, read once by accept. */
  readonly config: CompiledConfig;
  /** Aborts when the app goes away (and, below a timeout layer, when the deadline passes). */
  readonly signal: CancelSignal;
  readonly record: RequestRecord;
  /** What the app spoke; HTTP/2 stays HTTP/2 to the peer sidecar (streams, trailers). */
  readonly protocol: HttpProtocol;
  /** A gRPC request: the sidecar's own errors are answered as gRPC statuses. */
  readonly grpc: boolean;
  /**
   * The app's own deadline (gRPC `grpc-timeout`) as `performance.now()` ms; the timeout layer
   * narrows it to the route's when that is earlier, and the client sends what remains upstream.
   */
  readonly deadlineAt: number | undefined;
  /** The `Upgrade` token (`websocket`) when the app asks to switch protocols; no body then. */
  readonly upgrade: string | undefined;
  /** Set by discover (see ONE_SHAPE). */
  readonly service: CompiledService | undefined;
  /** Set by the trace layer: the request's CLIENT span. */
  readonly span: TraceSpan | undefined;
  /** Set by retry: this attempt. */
  readonly attempt: AttemptState | undefined;
  /** Set by balance: the endpoint this attempt goes to. */
  readonly endpoint: CompiledEndpoint | undefined;
}
