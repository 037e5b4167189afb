import type { Readable } from 'node:stream';
import type { CompiledConfig } from '../config/types';
import type { HeaderMap } from '../layers/http';
import type { RequestRecord } from '../telemetry/record';

/** A request from a peer sidecar as the inbound layers see it after `accept`. */
export interface InboundRequest {
  readonly method: string;
  /** Path and query as received. */
  readonly target: string;
  readonly path: string;
  /** Forwardable headers: hop-by-hop and any `x-weft-*` the caller sent removed. */
  readonly headers: HeaderMap;
  readonly body: Readable | null;
  /** The config this request runs on, read once (authorization will read it). */
  readonly config: CompiledConfig | undefined;
  readonly signal: AbortSignal;
  readonly record: RequestRecord;
  /** The TLS connection it came on, for the peer's certificate. */
  readonly socket: PeerCertificateSource;
}

/** The slice of a TLSSocket that tls-terminate reads (a plain object in unit tests). */
export interface PeerCertificateSource {
  getPeerX509Certificate(): { readonly subjectAltName: string | undefined } | undefined;
}
