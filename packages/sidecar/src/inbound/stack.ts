import type { CompiledConfig } from '../config/types';
import type { DownstreamHandler } from '../http/downstream';
import type { TelemetryEvents } from '../telemetry/events';
import type { Tracing } from '../telemetry/trace';
import { traceServer, type WithSpan } from '../telemetry/trace-layers';
import { acceptInbound } from './accept';
import { authorize } from './authorize';
import { forwardLocal, type LocalApp } from './forward-local';
import { rateLimit } from './rate-limit';
import { tlsTerminate, type WithPeer } from './tls-terminate';
import type { InboundRequest } from './types';

export interface InboundStackDeps {
  readonly config: { readonly current: CompiledConfig | undefined };
  /** This sidecar's service name, `service.namespace` and SPIFFE ID. */
  readonly service: string;
  readonly spiffeId: string;
  readonly destination: string;
  readonly events: TelemetryEvents;
  readonly tracing: Pick<Tracing, 'startSpan'>;
  readonly app: LocalApp;
}

/**
 * The inbound request path, top to bottom. TLS with a required client certificate has already
 * been completed by the server when a request reaches `accept` (or, in PERMISSIVE mode, the
 * request came in plaintext and has no peer identity).
 */
export function inboundStack(deps: InboundStackDeps): DownstreamHandler {
  return acceptInbound(deps, //                  parse, read the config once, answer, report
    tlsTerminate<InboundRequest>(deps.spiffeId, // peer identity from the client certificate's URI SAN, XFCC (plaintext: none)
      traceServer<WithPeer<InboundRequest>>(deps.service, deps.tracing, // SERVER span, caller's traceparent continued
        authorize<WithSpan<WithPeer<InboundRequest>>>(deps.events, // AuthorizationPolicy: DENY, then ALLOW; 403 names the policy
          rateLimit<WithSpan<WithPeer<InboundRequest>>>(deps, // own ServicePolicy.rateLimit: token bucket; over it -> 429 + retry-after
            forwardLocal(deps.app)))))); //       to the app in its protocol, x-weft-peer-identity and XFCC set; app down -> 502
}
