/**
 * TypeScript shapes of the messages in `proto/weft/v1alpha1`, as @grpc/proto-loader presents them
 * (camelCase fields, int64 as number, defaults filled in). Keep in step with the .proto files.
 */

export interface SignRequest {
  csrPem: string;
  token: string;
}

export interface SignResponse {
  certificateChainPem: string[];
  trustBundlePem: string[];
  expiresAtMs: number;
  spiffeId: string;
}

export interface WireNode {
  proxyId: string;
  service: string;
  namespace: string;
  address: string;
  labels: Record<string, string>;
  ready: boolean;
  proxyVersion: string;
  certificateExpiresAtMs: number;
}

export interface DiscoveryRequest {
  node?: WireNode | null;
  responseNonce: string;
  version: string;
  error: string;
}

export interface WireResource {
  kind: string;
  namespace: string;
  name: string;
  json: string;
}

export interface WireEndpoint {
  address: string;
  labels: Record<string, string>;
  ready: boolean;
  proxyId: string;
}

export interface WireServiceEndpoints {
  service: string;
  namespace: string;
  spiffeId: string;
  endpoints: WireEndpoint[];
}

export interface Snapshot {
  meshConfigJson: string;
  resources: WireResource[];
  services: WireServiceEndpoints[];
  trustBundlePem: string[];
  storeRevision: number;
}

export interface DiscoveryResponse {
  version: string;
  nonce: string;
  snapshot?: Snapshot | null;
}

export interface SourceDocument {
  source: string;
  index: number;
  json: string;
}

export interface ApplyRequest {
  documents: SourceDocument[];
  dryRun: boolean;
}

export interface AppliedResource {
  kind: string;
  namespace: string;
  name: string;
  action: 'created' | 'configured' | 'unchanged' | string;
}

export interface ApplyResponse {
  results: AppliedResource[];
  revision: number;
  dryRun: boolean;
}

export interface GetRequest {
  kind: string;
  namespace: string;
  name: string;
}

export interface GetResponse {
  itemsJson: string[];
  revision: number;
}

export interface DeleteRequest {
  kind: string;
  namespace: string;
  name: string;
}

export interface DeleteResponse {
  revision: number;
}

export type ListProxiesRequest = Record<string, never>;

export interface ProxyStatus {
  proxyId: string;
  spiffeId: string;
  service: string;
  namespace: string;
  address: string;
  labels: Record<string, string>;
  connected: boolean;
  connectedSinceMs: number;
  disconnectedAtMs: number;
  sentVersion: string;
  ackedVersion: string;
  ackedAtMs: number;
  lastNackVersion: string;
  lastNackMessage: string;
  lastNackAtMs: number;
  certificateExpiresAtMs: number;
  ready: boolean;
  proxyVersion: string;
}

export interface ListProxiesResponse {
  proxies: ProxyStatus[];
  currentRevision: string;
}

export type ListServicesRequest = Record<string, never>;

export interface ListServicesResponse {
  services: WireServiceEndpoints[];
}

export interface CreateTokenRequest {
  service: string;
  namespace: string;
  ttlSeconds: number;
  maxUses: number;
}

export interface CreateTokenResponse {
  token: string;
  expiresAtMs: number;
  spiffeId: string;
}
