import { DEFAULT_PORTS, weftVersion } from '@weft/api';

/** How `weftctl inject` builds the sidecar; every field has a flag (commands/inject.ts). */
export interface InjectOptions {
  /** Image holding weft-sidecar and weft-init (deploy/Dockerfile). */
  readonly image: string;
  /** The control plane's gRPC address as pods reach it. */
  readonly controlPlane: string;
  /** Fixed uid (and gid) of the sidecar: weft-init leaves this uid's traffic uncaptured. */
  readonly proxyUid: number;
  /** Secret with the join token under key `token`; `{service}` is replaced by the service name. */
  readonly tokenSecret: string;
  /** Mount the token Secret as a file (`--token-file`) instead of the `WEFT_TOKEN` env variable. */
  readonly tokenAsFile: boolean;
  /** Capture the app's DNS to the sidecar's responder (weft-init --dns). */
  readonly dns: boolean;
}

/** The Service and namespace of deploy/kubernetes/control-plane.yaml. */
export const DEFAULT_CONTROL_PLANE = `weft-control-plane.weft-system.svc:${DEFAULT_PORTS.controlPlaneGrpc}`;

/** Istio's choice too: a uid no image is likely to use for anything else. */
export const DEFAULT_PROXY_UID = 1337;

export function defaultInjectOptions(): InjectOptions {
  return {
    image: `weft/weft:${weftVersion()}`,
    controlPlane: DEFAULT_CONTROL_PLANE,
    proxyUid: DEFAULT_PROXY_UID,
    tokenSecret: 'weft-token-{service}',
    tokenAsFile: false,
    dns: false,
  };
}

/** Names, annotations and paths the injected pod carries; `weftctl inject` recognises its own work by them. */
export const INJECT = Object.freeze({
  proxyName: 'weft-proxy',
  initName: 'weft-init',
  proxyCommand: 'weft-sidecar',
  initCommand: 'weft-init',
  tokenVolume: 'weft-token',
  tokenDir: '/var/run/secrets/weft',
  annotations: {
    inject: 'weft.io/inject',
    service: 'weft.io/service',
    appPort: 'weft.io/app-port',
    excludeInboundPorts: 'weft.io/exclude-inbound-ports',
    excludeOutboundPorts: 'weft.io/exclude-outbound-ports',
    excludeOutboundCidrs: 'weft.io/exclude-outbound-cidrs',
    status: 'weft.io/status',
  },
});
