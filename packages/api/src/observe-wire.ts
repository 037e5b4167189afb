/**
 * TypeScript shapes of `proto/weft/v1alpha1/observe.proto` and the Admin calls built on it, as
 * @grpc/proto-loader presents them (camelCase, int64 as number, unset messages null). Keep in step
 * with the .proto files.
 */

/** The Node feature a sidecar lists when it answers ObserveRequests. */
export const OBSERVE_FEATURE = 'observe';

export interface StatQuery {
  windowMs: number;
}

export interface TapFilter {
  from: string;
  to: string;
  pathPrefix: string;
  method: string;
  direction: string;
}

export interface TapStart {
  filter: TapFilter | null;
  maxRps: number;
  durationMs: number;
}

export interface ObserveRequest {
  id: string;
  stat?: StatQuery | null;
  tap?: TapStart | null;
  tapStop?: boolean;
  edges?: boolean;
}

export interface TrafficCounts {
  direction: string;
  source: string;
  destination: string;
  route: string;
  proxyId: string;
  requests: number;
  successes: number;
  latencyBuckets: number[];
  latencySumMs: number;
  windowMs: number;
}

export interface TcpCounts {
  direction: string;
  source: string;
  destination: string;
  proxyId: string;
  open: number;
  opened: number;
  closed: number;
  receivedBytes: number;
  sentBytes: number;
}

export interface StatSummary {
  windowMs: number;
  traffic: TrafficCounts[];
  tcp: TcpCounts[];
}

export interface Edge {
  direction: string;
  source: string;
  sourceIdentity: string;
  destination: string;
  destinationIdentity: string;
  mtls: boolean;
  lastSeenMs: number;
  requests: number;
  connections: number;
  proxyId: string;
}

export interface TapEvent {
  atMs: number;
  proxyId: string;
  direction: string;
  source: string;
  destination: string;
  route: string;
  method: string;
  authority: string;
  path: string;
  status: number;
  grpcStatus: string;
  latencyMs: number;
  peerIdentity: string;
  mtls: boolean;
  traceId: string;
  errorCode: string;
}

export interface ObserveReply {
  id: string;
  stat?: StatSummary | null;
  tapEvents?: TapEvent[];
  tapEnded?: boolean;
  edges?: Edge[];
  error?: string;
  tapDropped?: number;
}

/** ok | no-answer | unsupported | error */
export type ProxyAnswerState = 'ok' | 'no-answer' | 'unsupported' | 'error';

export interface ProxyAnswer {
  proxyId: string;
  service: string;
  namespace: string;
  state: ProxyAnswerState | string;
  error: string;
}

export interface StatRequest {
  windowMs: number;
  byProxy: boolean;
  timeoutMs: number;
}

export interface StatResponse {
  summary: StatSummary | null;
  proxies: ProxyAnswer[];
}

export interface EdgesRequest {
  timeoutMs: number;
}

export interface EdgesResponse {
  edges: Edge[];
  proxies: ProxyAnswer[];
}

export interface TapRequest {
  filter: TapFilter | null;
  maxRps: number;
  durationMs: number;
}

export interface TapResponse {
  events: TapEvent[];
  proxies: ProxyAnswer[];
  dropped: number;
}
