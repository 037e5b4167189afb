import type { CompiledConfig } from '../config/types';
import type { IdentityMaterial } from '../control/identity-material';
import { NoEndpointsError, NotReadyError, ProxyError } from '../layers/errors';
import { relayTcp } from '../tcp/relay';
import { TunnelListener } from '../listen/tunnel-listener';
import type { ProxyListener } from '../listener';
import type { SelfInfo } from '../self';
import type { Telemetry } from '../telemetry/telemetry';
import type { Watch } from '../watch';
import { Tunnels } from './endpoint/tunnels';
import { tunnelOpener } from './tcp-connect';

/** `--tcp-forward LOCALPORT=service[.namespace]`: a local port whose connections go to a service. */
export interface TcpForward {
  readonly localPort: number;
  /** `service` or `service.namespace`, as an app would name it in a Host header. */
  readonly service: string;
}

export interface TcpForwardOptions {
  readonly host: string;
  readonly forward: TcpForward;
  readonly self: SelfInfo;
  readonly identity: Watch<IdentityMaterial>;
  readonly config: Watch<CompiledConfig>;
  readonly telemetry: Telemetry;
}

/**
 * A TCP port mapping, as Consul Connect's upstreams: the app connects to 127.0.0.1:LOCALPORT, and
 * the sidecar picks a ready endpoint of the service (round robin; another one if it cannot
 * connect), opens mTLS to its inbound with ALPN `weft-tcp`, checks that the peer is the service's
 * SPIFFE ID, and relays bytes both ways. HTTP Routes do not apply to raw TCP.
 */
export async function startTcpForward(options: TcpForwardOptions): Promise<ProxyListener> {
  const tunnels = new Tunnels(options.identity);
  const source = `${options.self.service}.${options.self.namespace}`;
  const log = options.telemetry.log.child({ component: 'tcp-forward', localPort: options.forward.localPort });
  const open = tunnelOpener(tunnels);

  const listener = new TunnelListener((client) => {
    const config = options.config.current;
    const service = config?.lookup(options.forward.service);
    const labels = { direction: 'outbound', source, destination: service?.key ?? options.forward.service } as const;
    return relayTcp(
      client,
      async () => {
        try {
          if (!config) throw new NotReadyError('configuration');
          if (!service) throw NoEndpointsError.unknownService(options.forward.service);
          return await open(service, client);
        } catch (err) {
          // The app only sees its connection close; the reason goes to the log (and metrics).
          log.warn('TCP connection not forwarded', { service: options.forward.service, code: err instanceof ProxyError ? err.code : undefined, reason: (err as Error).message });
          throw err;
        }
      },
      labels,
      options.telemetry.events,
    );
  });
  return listener.listen(options.forward.localPort, options.host);
}

/** Parses `LOCALPORT=service[.namespace]`, or says (as a string) why it is not one. */
export function parseTcpForward(text: string): TcpForward | string {
  const m = /^(\d{1,5})=([a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)?)$/.exec(text.trim());
  const port = m ? Number(m[1]) : NaN;
  if (!m || port < 1 || port > 65535) return `--tcp-forward must be LOCALPORT=service[.namespace] with a port from 1 to 65535, got ${JSON.stringify(text)}`;
  return { localPort: port, service: m[2] as string };
}
