/**
 * TypeScript shapes of the messages in `proto/weft/v1alpha1`, as @grpc/proto-loader presents them
 * (camelCase fields, int64 as number, defaults filled in). Keep in step with the .proto files.
 */

import type { ObserveReply, ObserveRequest } from './observe-wire';

export interface SignRequest {
  csrPem: string;
  token: string;
  /** Absent from older sidecars; proto-loader fills in ''. */
  proxyId?: string;
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
  /** SHA-256 (hex) of the root the current certificate chains to. */
  certificateRootFingerprint?: string;
  certificateSerial?: string;
  /** The app's port on the host of `address`; 0 (proto-loader's default) when not announced. */
  appPort?: number;
  /** What the sidecar understands beyond the base protocol (OBSERVE_FEATURE); absent from older sidecars. */
  features?: string[];
}

export interface DiscoveryRequest {
  node?: WireNode | null;
  responseNonce: string;
  version: string;
  error: string;
  /** An answer to DiscoveryResponse.observe (nothing else is set then). */
  observeReply?: ObserveReply | null;
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
  /** ListServices only: `verified`, `verifying`, `unverified` or `refused` (snapshots carry verified endpoints alone). */
  verification?: string;
  verificationDetail?: string;
  /** The app's port on the endpoint's host (Node.app_port); 0 or absent when not announced. */
  appPort?: number;
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
  /** SHA-256 (hex) of the root new certificates are issued under; '' from older control planes. */
  signingRootFingerprint?: string;
  /**
   * Set: this is a delta against that version (snapshot-delta.ts): `resources` and `services`
   * hold only what is new or changed, the removed ones are named below. Empty: a whole snapshot.
   */
  baseVersion?: string;
  /** Keys (`kind/namespace/name`) of resources gone since `baseVersion`. */
  removedResources?: string[];
  /** Keys (`namespace/service`) of services gone since `baseVersion`. */
  removedServices?: string[];
}

export interface DiscoveryResponse {
  version: string;
  nonce: string;
  snapshot?: Snapshot | null;
  /** A question about traffic (no snapshot, version or nonce then); see observe.proto. */
  observe?: ObserveRequest | null;
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
  certificateRootFingerprint?: string;
  certificateSerial?: string;
  /** Whether its announced address was shown to serve its identity: as WireEndpoint.verification. */
  addressVerification?: string;
  addressVerificationDetail?: string;
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
  /** 0: the default (1). */
  maxUses: number;
  /** Absent from older weftctl; proto-loader fills in false. */
  unlimitedUses?: boolean;
}

export interface CreateTokenResponse {
  token: string;
  expiresAtMs: number;
  spiffeId: string;
}

export type ListTokensRequest = Record<string, never>;

export type TokenState = 'valid' | 'expired' | 'exhausted' | 'revoked';

/** A join token as stored, without its secret. */
export interface TokenInfo {
  id: string;
  spiffeId: string;
  service: string;
  namespace: string;
  createdAtMs: number;
  expiresAtMs: number;
  uses: number;
  maxUses: number;
  revokedAtMs: number;
  rootFingerprint: string;
  state: TokenState | string;
}

export interface ListTokensResponse {
  tokens: TokenInfo[];
}

export interface RevokeTokenRequest {
  id: string;
}

export interface RevokeTokenResponse {
  token?: TokenInfo | null;
}

export interface RemoveProxyRequest {
  proxyId: string;
}

export interface RemoveProxyResponse {
  proxyId: string;
  spiffeId: string;
  revokedSerials: string[];
  lastCertificateExpiresAtMs: number;
  tokenIds: string[];
}

export interface RotateRootRequest {
  rootValiditySeconds: number;
}

export type GetCaStatusRequest = Record<string, never>;

export type CaPhase = 'idle' | 'overlap' | 'reissue' | 'retire';

export interface CaCertificate {
  fingerprint: string;
  subject: string;
  notBeforeMs: number;
  notAfterMs: number;
  /** Roots: active | old | new. The signer: intermediate. */
  role: string;
}

export interface CaProxyProgress {
  proxyId: string;
  service: string;
  namespace: string;
  connected: boolean;
  certificateRootFingerprint: string;
  ackedNewBundle: boolean;
  /** Empty when this proxy holds nothing up. */
  waitingFor: string;
}

export interface CaStatus {
  phase: CaPhase | string;
  phaseSinceMs: number;
  startedAtMs: number;
  roots: CaCertificate[];
  signingRootFingerprint: string;
  signer?: CaCertificate | null;
  proxies: CaProxyProgress[];
  waitingFor: string;
  lastCompletedAtMs: number;
}

export interface VersionInfo {
  version: string;
}

export type GetStatusRequest = Record<string, never>;

export interface ControlPlaneStatus {
  version: string;
  /** `HOST:PORT` of /ready as bound; a wildcard host answers on the gRPC endpoint's host too. */
  httpAddress: string;
  ready: boolean;
  nowMs: number;
  /** An external registry the control plane follows (--registry consul); unset when none. */
  registry?: RegistryStatus | null;
}

/** How the control plane's view of an external catalog is doing; while down it serves what it last read. */
export interface RegistryStatus {
  source: string;
  address: string;
  up: boolean;
  lastSuccessMs: number;
  errors: number;
  lastError: string;
  meshInstances: number;
  otherInstances: number;
}

export interface GetProxyConfigRequest {
  proxyId: string;
}

export interface ProxySnapshot {
  version: string;
  snapshot?: Snapshot | null;
  atMs: number;
}

export interface ProxyConfig {
  proxy?: ProxyStatus | null;
  /** Unset until the proxy ACKs a snapshot on its current stream. */
  acked?: ProxySnapshot | null;
  current?: ProxySnapshot | null;
}
