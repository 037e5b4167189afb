import type { Readable } from 'node:stream';
import type { CompiledConfig } from '../config/types';
import type { HttpProtocol, PeerCertificateSource } from '../http/downstream';
import type { HeaderMap } from '../layers/service';
import type { RequestRecord } from '../telemetry/record';
import type { CancelSignal } from '../layers/cancel';
import type { TraceSpan } from '../telemetry/trace';
import type { HttpPeer } from './tls-terminate';

export type { PeerCertificateSource } from '../http/downstream';

/**
 * A request from a peer sidecar (or, in PERMISSIVE mode, a plaintext client) after `accept`. The
 * fields layers fill in (`peer`, `span`) are there from the start, undefined, so that each copy
 * keeps one hidden class (see ONE_SHAPE in ../outbound/types).
 */
export interface InboundRequest {
  readonly method: string;
  /** Path and query as received. */
  readonly target: string;
  readonly path: string;
  /** Forwardable headers: hop-by-hop and any `x-weft-*` the caller sent removed. */
  readonly headers: HeaderMap;
  readonly body: Readable | Buffer | null;
  /** The config this request runs on, read once (authorization will read it). */
  readonly config: CompiledConfig | undefined;
  readonly signal: CancelSignal;
  readonly record: RequestRecord;
  /** The TLS connection it came on, for the peer's certificate; null for plaintext (PERMISSIVE). */
  readonly socket: PeerCertificateSource | null;
  /** What the caller spoke (HTTP/2 for gRPC and for an app's h2c). */
  readonly protocol: HttpProtocol;
  /** What the calling app spoke (see caller-protocol): an undeclared app is spoken to in it. */
  readonly callerProtocol: HttpProtocol;
  /** A gRPC request: the sidecar's own errors are answered as gRPC statuses. */
  readonly grpc: boolean;
  /** The `Upgrade` token (`websocket`) when the caller asks to switch protocols; no body then. */
  readonly upgrade: string | undefined;
  /** Set by tls-terminate: who called. */
  readonly peer: HttpPeer | undefined;
  /** Set by the trace layer: the request's SERVER span. */
  readonly span: TraceSpan | undefined;
}
