import type { Agent } from 'node:http';
import type { Readable } from 'node:stream';
import { HEADERS } from '@weft/api';
import type { H2Connection } from '../layers/h2-connection';
import type { HeaderMap } from '../layers/http';
import type { Phase } from '../telemetry/record';
import type { PeerIdentity } from './tls-terminate';

/** What the local app speaks (`--app-protocol`). */
export type AppProtocol = 'http1' | 'h2c' | 'tcp';

export interface LocalApp {
  readonly host: string;
  readonly port: number;
  readonly protocol: AppProtocol;
  /** Keep-alive agent shared by every HTTP/1.1 request to the app. */
  readonly agent: Agent;
  /** The one HTTP/2 session to an h2c app (gRPC servers), reopened when it closes. */
  readonly h2: H2Connection | undefined;
}

export interface ForwardRequest {
  readonly method: string;
  readonly target: string;
  readonly headers: HeaderMap;
  readonly body: Readable | null;
  readonly signal: AbortSignal;
  readonly peer: PeerIdentity;
  readonly record: { phase: Phase };
  readonly grpc: boolean;
  /** The `Upgrade` token when the caller switches protocols (WebSocket). */
  readonly upgrade: string | undefined;
}

/** The headers the app receives: the caller's, plus its verified identity when it has one. */
export function appHeaders(req: ForwardRequest): HeaderMap {
  return req.peer.spiffeId === '' ? req.headers : { ...req.headers, [HEADERS.peerIdentity]: req.peer.spiffeId };
}
