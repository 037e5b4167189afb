// The sidecar as a library: start one in-process with the options its flags make, and watch it.
export { startSidecar, type RunningSidecar, type SidecarPorts } from './sidecar';
export { SIDECAR_DEFAULTS, type ConsulRegisterOptions, type SidecarOptions, type SidecarOverrides } from './options';
export { parseFlags, UsageError, type ParsedFlags } from './flags';
export { Watch } from './watch';
export type { SelfInfo } from './self';
export type { IdentityMaterial } from './control/identity-material';
export type { CompiledConfig } from './config/compiled-config';
export type { Readiness } from './admin/server';
export type { ProxyListener } from './listener';
export type { AppProtocol } from './inbound/local-app';
export type { Http1Upstream } from './outbound/endpoint/upstream';
export type { TcpForward } from './outbound/tcp-forward';
export type { OtlpClientSettings } from './telemetry/otlp-client';
// What SidecarOverrides.nativeMemory takes: the memory addon loaded from another path.
export { loadNativeMemory, type NativeMemory } from './memory/native-memory';
// What startSidecar can throw besides UsageError: a port it cannot listen on, a token or control plane it cannot use.
export { ListenError, type ListenerKind } from './listen-error';
export { ControlError, type ControlErrorCode } from './control/errors';

// The sidecar's side of the control protocol, for tools that speak it without a proxy
// (scripts/bench-control-plane simulates a fleet of sidecars with these).
export { parseHostPort, type HostPort } from './control/address';
export { Backoff, RECONNECT_BACKOFF, type BackoffOptions } from './control/backoff';
export { fetchTrustAnchor } from './control/bootstrap-trust';
export { controlPlaneCredentials, CONTROL_CHANNEL_OPTIONS } from './control/tls-credentials';
export { callSign } from './control/grpc-calls';
