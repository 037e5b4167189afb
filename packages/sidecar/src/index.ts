export { Watch } from './watch';
export { startSidecar, type SidecarOptions, type SidecarOverrides, type SidecarPorts, type RunningSidecar } from './sidecar';
export { SIDECAR_DEFAULTS } from './options';
export { ListenError, type ListenerKind } from './listen-error';
export { main } from './main';
export { parseFlags, resolveOptions, UsageError, type ParsedFlags } from './flags';
export type { SelfInfo } from './self';
export type { ProxyListener } from './listener';
export type { IdentityMaterial } from './control/identity-material';
export { JoinToken } from './control/join-token';
export { ControlError, isTransient, type ControlErrorCode, type ErrorInfo } from './control/errors';
export { parseHostPort, parseHostMaybePort, formatHostPort, type HostPort } from './control/address';
export { Backoff, RECONNECT_BACKOFF, type BackoffOptions } from './control/backoff';
export { fetchTrustAnchor, type TrustAnchor, type FetchTrustAnchorOptions } from './control/bootstrap-trust';
export { IdentityClient, renewDelay, type IdentityClientOptions, type IdentityState } from './control/identity-client';
export { controlPlaneCredentials, CONTROL_CHANNEL_OPTIONS } from './control/tls-credentials';
export { callSign } from './control/grpc-calls';
export { ControlClient, type ControlClientOptions, type ControlState, type CompileFn } from './control/control-client';
export { AdminServer, type AdminHandlers, type AdminServerOptions, type Readiness } from './admin/server';
export { buildConfigView, type ConfigView, type ConfigViewSource } from './admin/config-view';
export { compileSnapshot, ConfigCompileError, type CompiledConfig } from './config/compiled-config';
export type { CompiledService, CompiledRule, CompiledBackend, CompiledEndpoint, Destination } from './config/types';
export { startOutbound, DEFAULT_HTTP1_UPSTREAM, type OutboundOptions } from './outbound/server';
export { startInbound, type InboundOptions } from './inbound/server';
export { startTcpForward, parseTcpForward, type TcpForward, type TcpForwardOptions } from './outbound/tcp-forward';
export type { AppProtocol } from './inbound/local-app';
export type { Http1Upstream } from './outbound/endpoint/upstream';
export { LISTENER_LIMITS, type ListenerLimits } from './layers/mux-listener';
export { Telemetry, type TelemetryOptions } from './telemetry/telemetry';
export { TelemetryEvents, type WeftEvents, type WeftEventName } from './telemetry/events';
export { parseTraceParent, formatTraceParent, type TraceParent } from './telemetry/traceparent';
export {
  ProxyError, BadRequestError, NotReadyError, NoEndpointsError, NoRouteError, UpstreamTimeoutError, AttemptTimeoutError, ConnectError,
  PeerIdentityError, UpstreamResetError, AppUnavailableError, NoPeerIdentityError, ClientClosedError, InternalError,
} from './layers/errors';
export { DeadlineExceededError } from './layers/errors';
export { RETRY_DEFAULTS } from './layers/retry-defaults';
export { OverflowError } from './outbound/backend/pool-limits';
export { RateLimitedError } from './inbound/rate-limit';
