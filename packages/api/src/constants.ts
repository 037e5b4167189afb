/** Default ports. Every one is also a flag, so that many sidecars can share one host. */
export const DEFAULT_PORTS = Object.freeze({
  controlPlaneGrpc: 15012,
  controlPlaneHttp: 15014,
  sidecarOutbound: 15001,
  sidecarInbound: 15006,
  sidecarAdmin: 15000,
  /** The sidecar's DNS responder for mesh names, when one runs (transparent capture with DNS). */
  sidecarDns: 15053,
});

export const API_VERSION = 'weft.dev/v1alpha1';
export const DEFAULT_TRUST_DOMAIN = 'weft.local';
export const DEFAULT_NAMESPACE = 'default';

/** The namespace and service name the control plane's own certificate is issued for. */
export const CONTROL_PLANE_NAMESPACE = 'weft-system';
export const CONTROL_PLANE_SERVICE = 'weft-control-plane';
/** The operator certificate's identity: `spiffe://<td>/ns/weft-system/sa/weft-operator`. */
export const OPERATOR_SERVICE = 'weft-operator';

/** Headers the mesh owns. Anything arriving from outside the mesh with these is stripped. */
export const HEADERS = Object.freeze({
  peerIdentity: 'x-weft-peer-identity',
  attempts: 'x-weft-attempts',
  error: 'x-weft-error',
  /**
   * On a sidecar's own error answer: the request reached no app (nothing was processed), so the
   * caller's sidecar may send it to another endpoint whatever its method. Its value names why.
   */
  unprocessed: 'x-weft-unprocessed',
  /**
   * Between sidecars only: the protocol the calling app spoke when the hop changed it (HTTP/1.1
   * carried as HTTP/2, `--http1-upstream h2`), so that the destination speaks it to its app.
   */
  callerProtocol: 'x-weft-caller-protocol',
  /**
   * Envoy's header for the verified client certificate (`By=...;Hash=...;URI=...`), set by the
   * inbound sidecar from the peer's certificate; apps behind Envoy trust it, so nothing else may set it.
   */
  forwardedClientCert: 'x-forwarded-client-cert',
});

/**
 * The largest gRPC message the control plane accepts (grpc-js's default, 4 MiB, set explicitly on
 * its server). `weftctl apply` checks files against it before reading them, so an oversized apply
 * fails at once with advice instead of after parsing megabytes of YAML.
 */
export const CONTROL_PLANE_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;
