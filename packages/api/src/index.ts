export { DEFAULT_PORTS, API_VERSION, DEFAULT_TRUST_DOMAIN, DEFAULT_NAMESPACE, CONTROL_PLANE_NAMESPACE, CONTROL_PLANE_SERVICE, OPERATOR_SERVICE, HEADERS, CONTROL_PLANE_MAX_MESSAGE_BYTES } from './constants';
export { parseDuration, formatDuration } from './duration';
export { Backoff, fullJitterDelay, type BackoffOptions } from './backoff';
export { probeConnect, type ConnectProbeResult } from './connect-probe';
export { spiffeId, parseSpiffeId, controlPlaneSpiffeId, NAME_RE, type WorkloadIdentity } from './spiffe';
export { WeftError, ValidationError, formatIssue, type ValidationIssue } from './errors';
export { validateDocument, validateDocuments, resourceDocument, formatPath, type DocumentSource, type SourcedDocument } from './validate';
export { parseDocuments } from './documents';
export { protoRoot, loadWeftService, loadWeftServices, type WeftServices } from './proto';
export { KINDS, isPolicyKind, resolveKind, resourceKey } from './resources/kinds';
export type { KindInfo, PolicyKind, PolicyResource, MeshConfig, Route, ServicePolicy, AuthorizationPolicy, ResourceMetadata } from './resources/kinds';
export { meshConfigSpec, effectiveMeshConfig, type MeshConfigSpec, type EffectiveMeshConfig } from './resources/mesh-config';
export { routeSpec, RETRY_ON, RETRY_BACKOFF_DEFAULTS, type RouteSpec, type RouteRule, type RouteMatch, type StringMatch, type HeaderMatch, type HeaderOps, type RetryOn } from './resources/route';
export { servicePolicySpec, LOAD_BALANCERS, inSubset, type ServicePolicySpec } from './resources/service-policy';
export { authorizationPolicySpec, type AuthorizationPolicySpec, type AuthorizationRule, type AuthorizationSource, type AuthorizationOperation } from './resources/authorization-policy';
export {
  compileAuthorization,
  decide,
  normalizePath,
  describeAuthorization,
  AuthzCompileError,
  type CompileAuthorizationOptions,
  type NormalizedPath,
  type AuthzTableView,
  type AuthzPolicyView,
  type AuthzAction,
  type AuthzCause,
  type AuthzDecision,
  type AuthzRequest,
  type AuthzTable,
  type CompiledAuthzPolicy,
  type CompiledAuthzRule,
  type CompiledOperation,
} from './authz/index';
export type * from './wire';
export type * from './observe-wire';
export { OBSERVE_FEATURE } from './observe-wire';
export { DELTA_FEATURE, snapshotDelta, applySnapshotDelta, isSnapshotDelta, wireResourceKey, wireServiceKey } from './snapshot-delta';
export { isSuccessfulResponse } from './request-success';
export { LATENCY_BUCKET_BOUNDS_MS, LATENCY_BUCKET_COUNT, latencyBucketOf, mergeLatencyBuckets, trimLatencyBuckets, latencyQuantile } from './latency-histogram';
export { createLogger, type Logger, type LogLevel } from './log';
export type { OperatorConfig } from './operator-config';
export { JOIN_TOKEN_PREFIX, JOIN_TOKEN_ID_RE, parseJoinToken, formatJoinToken, type JoinTokenParts } from './join-token';
export { weftVersion } from './version';
export { packageRoot } from './package-root';
export { connectFailure, socketFailure } from './connect-failure';
export { parseHostPort, formatHostPort, type HostPort, type ParseHostPortOptions } from './host-port';
export { Registry, Counter, CounterSeries, Gauge, Histogram, HistogramSeries, DEFAULT_BUCKETS, renderLabels, escapeLabelValue, type Labels } from './metrics-registry';
export { countProcess } from './metrics-process';
export { LogThrottle, LOG_THROTTLE_DEFAULTS, type LogThrottleLimits, type ThrottleFields, type ThrottleOverflow } from './log-throttle';
