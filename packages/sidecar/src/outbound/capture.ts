import type { Socket } from 'node:net';
import type { LogThrottle, Logger } from '@weft/api';
import type { OriginalDst } from '../capture/original-dst';
import type { CompiledConfig } from '../config/types';
import { NotReadyError, ProxyError } from '../layers/errors';
import type { MuxListener } from '../listen/mux-listener';
import { capturedProtocolOf, sniff } from '../listen/sniff';
import { dialTcp } from '../tcp/dial';
import { relayTcp } from '../tcp/relay';
import type { TelemetryEvents } from '../telemetry/events';
import type { TunnelOpener } from './tcp-connect';

/** A captured connection to a destination outside the mesh, under MeshConfig `outboundTrafficPolicy: REGISTRY_ONLY`. */
export class RegistryOnlyError extends ProxyError {
  readonly httpStatus = 502;
  constructor(dst: string) {
    super(
      'WEFT_ERR_REGISTRY_ONLY',
      `connection to ${dst} refused: it is no mesh service and MeshConfig outboundTrafficPolicy is REGISTRY_ONLY; run a Weft sidecar there, exclude it (weft-init --exclude-outbound-cidrs / --exclude-outbound-ports), or set ALLOW_ANY`,
    );
  }
}

export interface CaptureDeps {
  readonly config: { readonly current: CompiledConfig | undefined };
  readonly open: TunnelOpener;
  /** `service.namespace` of this sidecar. */
  readonly source: string;
  readonly events: Pick<TelemetryEvents, 'emit'>;
  readonly log: Logger;
  /** Refused or failed captured connections, logged a few per destination a minute. */
  readonly refusals: Pick<LogThrottle, 'record'>;
  /** How long a silent client may take to speak before it is taken for TCP whose server speaks first. */
  readonly sniffMs: number;
  readonly connectTimeoutMs: number;
}

/** The metric destination of connections that left the mesh: one label, not one per address. */
export const PASSTHROUGH = 'passthrough';

/**
 * A connection an iptables REDIRECT brought here, with where the app sent it. An address a mesh
 * service's app listens at (announced app ports) is carried by the mesh: HTTP/1.1 and HTTP/2 are
 * served by the outbound stack and routed by authority as explicit requests are; other TCP goes
 * through an mTLS tunnel to the service. Any other address is dialled as is (ALLOW_ANY) or refused
 * (REGISTRY_ONLY). The sidecar's own connections are not captured (weft-init excludes its uid).
 */
export function serveCaptured(socket: Socket, dst: OriginalDst, mux: MuxListener, deps: CaptureDeps): void {
  const config = deps.config.current;
  const where = `${dst.host}:${dst.port}`;
  const service = config?.lookupAddress(dst.host, dst.port);
  if (!config || !service) {
    const labels = { direction: 'outbound', source: deps.source, destination: PASSTHROUGH } as const;
    mux.track(relayTcp(socket, () => {
      if (!config) return Promise.reject(new NotReadyError('configuration'));
      if (config.mesh.outboundTrafficPolicy === 'REGISTRY_ONLY') {
        const err = new RegistryOnlyError(where);
        deps.refusals.record(`${err.code}|${where}`, { code: err.code, destination: where }, () =>
          deps.log.warn('captured connection refused', { code: err.code, destination: where, reason: err.message }),
        );
        return Promise.reject(err);
      }
      return dialTcp(dst.host, dst.port, deps.connectTimeoutMs);
    }, labels, deps.events), socket);
    return;
  }
  void sniff(socket, capturedProtocolOf, deps.sniffMs, 'tcp' as const).then((protocol) => {
    if (protocol === 'h2') mux.serveH2(socket);
    else if (protocol === 'http1') mux.serveHttp1(socket);
    else if (protocol === 'tcp') {
      const labels = { direction: 'outbound', source: deps.source, destination: service.key } as const;
      mux.track(relayTcp(socket, async () => {
        try {
          return await deps.open(service, socket);
        } catch (err) {
          const code = err instanceof ProxyError ? err.code : undefined;
          deps.refusals.record(`${code}|${service.key}`, { code, destination: service.key }, () =>
            deps.log.warn('captured TCP connection not carried', { destination: service.key, code, reason: (err as Error).message }),
          );
          throw err;
        }
      }, labels, deps.events), socket);
    }
  });
}
