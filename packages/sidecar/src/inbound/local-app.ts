import type { Readable } from 'node:stream';
import { HEADERS } from '@weft/api';
import type { HttpProtocol } from '../http/downstream';
import type { H2Connection } from '../http/h2-connection';
import type { HeaderMap } from '../layers/service';
import type { Phase } from '../telemetry/record';
import type { AppPool } from './app-pool';
import type { HttpPeer } from './tls-terminate';
import type { CancelSignal } from '../layers/cancel';

/**
 * What the local app speaks (`--app-protocol`). `auto`, the default, is HTTP with the protocol
 * undeclared: the app is spoken to in the protocol its caller spoke (as Istio does for undeclared
 * ports); `http1` and `h2c` force one; `tcp` is raw bytes.
 */
export type AppProtocol = 'auto' | 'http1' | 'h2c' | 'tcp';

export interface LocalApp {
  readonly host: string;
  readonly port: number;
  readonly protocol: AppProtocol;
  /** Kept-alive connections shared by every HTTP/1.1 request to the app (not Upgrades). */
  readonly http1: AppPool;
  /** The one HTTP/2 session to the app (h2c or auto), opened when first needed and reopened when it closes. */
  readonly h2: H2Connection | undefined;
}

export interface ForwardRequest {
  readonly method: string;
  readonly target: string;
  readonly headers: HeaderMap;
  readonly body: Readable | Buffer | null;
  readonly signal: CancelSignal;
  readonly peer: HttpPeer;
  readonly record: { phase: Phase };
  readonly grpc: boolean;
  /** What the calling app spoke: an `auto` app is spoken to in it. */
  readonly callerProtocol: HttpProtocol;
  /** The `Upgrade` token when the caller switches protocols (WebSocket). */
  readonly upgrade: string | undefined;
}

/**
 * The headers the app receives: the caller's, plus its verified identity when it has one, in
 * `x-weft-peer-identity` and in Envoy's `x-forwarded-client-cert`. Set in the request's own header
 * map (accept built it and removed any the caller sent, as the trace layer sets `traceparent` in
 * it): a copy that adds a key costs about 1 us on Node.js 20.
 */
export function appHeaders(req: ForwardRequest): HeaderMap {
  const peer = req.peer;
  if (peer.spiffeId !== '') {
    req.headers[HEADERS.peerIdentity] = peer.spiffeId;
    req.headers[HEADERS.forwardedClientCert] = peer.forwardedClientCert;
  }
  return req.headers;
}
