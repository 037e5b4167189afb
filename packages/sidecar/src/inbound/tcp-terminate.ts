import type { Duplex } from 'node:stream';
import type { CompiledConfig } from '../config/types';
import type { PeerCertificateSource } from '../http/downstream';
import { NoPeerIdentityError, NotReadyError, ProxyError } from '../layers/errors';
import { dialTcp } from '../tcp/dial';
import { relayTcp } from '../tcp/relay';
import type { TelemetryEvents } from '../telemetry/events';
import { authorizeConnection } from './authorize-connection';
import { peerOf, PLAINTEXT_PEER } from './tls-terminate';

/** A TCP connection an AuthorizationPolicy refused (no HTTP answer is possible: it is closed). */
export class ConnectionDeniedError extends ProxyError {
  readonly httpStatus = 403;
  constructor(caller: string, service: string, policy: string) {
    const by = policy === '' ? 'no ALLOW rule without `to` names it' : `DENY policy ${policy} names it`;
    super('WEFT_ERR_AUTHZ_DENIED', `TCP connection from ${caller || '(no identity: plaintext)'} to ${service} refused: ${by}`);
  }
}

export interface TcpTerminateDeps {
  readonly app: { readonly host: string; readonly port: number };
  readonly config: { readonly current: CompiledConfig | undefined };
  /** `service.namespace` of this sidecar. */
  readonly destination: string;
  readonly events: Pick<TelemetryEvents, 'emit'>;
  readonly connectTimeoutMs: number;
  /** Hears why a connection was refused (the client only sees it closed). */
  readonly onRefused: (err: ProxyError) => void;
}

/**
 * The inbound end of a TCP tunnel (`--app-protocol tcp`): a peer sidecar's `weft-tcp` connection,
 * or in PERMISSIVE mode a plaintext one. The caller is named by its certificate (none for
 * plaintext), checked against the service's AuthorizationPolicies, and its bytes are relayed to
 * and from the app's port until either side closes.
 */
export function terminateTcp(client: Duplex, tls: PeerCertificateSource | null, deps: TcpTerminateDeps): Promise<string> {
  const peer = tls === null ? PLAINTEXT_PEER : peerOf(tls.getPeerX509Certificate()?.subjectAltName);
  const labels = { direction: 'inbound', source: peer?.source ?? 'unknown', destination: deps.destination } as const;
  return relayTcp(
    client,
    async () => {
      try {
        if (!peer) throw new NoPeerIdentityError();
        const table = deps.config.current?.authz;
        if (!table) throw new NotReadyError('configuration'); // fail closed, as the HTTP path does
        const decision = authorizeConnection(table, peer.spiffeId);
        if (!decision.allowed) {
          deps.events.emit('weft:authz-denied', { source: labels.source, destination: deps.destination, policy: decision.policy, cause: decision.cause });
          throw new ConnectionDeniedError(peer.spiffeId, deps.destination, decision.policy);
        }
        return await dialTcp(deps.app.host, deps.app.port, deps.connectTimeoutMs);
      } catch (err) {
        if (err instanceof ProxyError) deps.onRefused(err);
        throw err;
      }
    },
    labels,
    deps.events,
  );
}
