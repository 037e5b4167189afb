import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CompiledConfig } from '../config/types';
import type { TelemetryEvents } from '../telemetry/events';
import type { Tracing } from '../telemetry/trace';
import { traceServer } from '../telemetry/trace-layers';
import { acceptInbound } from './accept';
import { forwardLocal, type LocalApp } from './forward-local';
import { tlsTerminate, type WithPeer } from './tls-terminate';
import type { InboundRequest } from './types';

export interface InboundStackDeps {
  readonly config: { readonly current: CompiledConfig | undefined };
  /** This sidecar's service name and `service.namespace`. */
  readonly service: string;
  readonly destination: string;
  readonly events: TelemetryEvents;
  readonly tracing: Pick<Tracing, 'startSpan'>;
  readonly app: LocalApp;
}

/**
 * The inbound request path, top to bottom. TLS with a required client certificate has already
 * been completed by the server when a request reaches `accept`.
 */
export function inboundStack(deps: InboundStackDeps): (req: IncomingMessage, res: ServerResponse) => void {
  return acceptInbound(deps, //                  parse, read the config once, answer, report
    tlsTerminate<InboundRequest>( //              peer identity from the client certificate's URI SAN
      traceServer<WithPeer<InboundRequest>>(deps.service, deps.tracing, // SERVER span, caller's traceparent continued
        // authorize:  AuthorizationPolicy (DENY, then ALLOW) goes here; it has its own issue.
        // rate-limit: ServicePolicy.rateLimit goes here; it has its own issue.
        forwardLocal(deps.app)))); //             to the app, x-weft-peer-identity set; app down -> 502
}
