import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CompiledBackend, CompiledConfig, CompiledRule } from '../config/types';
import type { Service } from '../layers/http';
import { perTarget } from '../layers/per-target';
import { retry, type Attempted } from '../layers/retry';
import { timeout } from '../layers/timeout';
import type { TelemetryEvents } from '../telemetry/events';
import type { Tracing } from '../telemetry/trace';
import { traceAttempt, traceClient, type WithSpan } from '../telemetry/trace-layers';
import { acceptOutbound } from './accept';
import { balance } from './backend/balance';
import { discover, type Discovered } from './discover';
import { endpointClient, type EndpointDispatchers, type EndpointRequest } from './endpoint/client';
import { distribute } from './route/distribute';
import { fault } from './route/fault';
import { routeMatch } from './route/match';
import type { OutboundRequest } from './types';

export interface OutboundStackDeps {
  readonly config: { readonly current: CompiledConfig | undefined };
  /** `service.namespace` of this sidecar. */
  readonly source: string;
  readonly events: TelemetryEvents;
  readonly tracing: Pick<Tracing, 'startSpan'>;
  /** Pooled mTLS connections per endpoint (TLS origination and identity pinning live there). */
  readonly dispatchers: EndpointDispatchers;
}

/** A request once a rule is chosen, inside the CLIENT span, on one attempt. */
type RouteRequest = Discovered<OutboundRequest>;
type AttemptRequest = Attempted<WithSpan<RouteRequest>>;

/**
 * The outbound request path, top to bottom. Targets go logical (the service asked for) -> route
 * (one rule) -> backend (one subset) -> endpoint (one peer sidecar); each target's stack is built
 * once per compiled target and reused, so a request only runs handlers.
 */
export function outboundStack(deps: OutboundStackDeps): (req: IncomingMessage, res: ServerResponse) => void {
  return acceptOutbound(deps, //  parse the request, read the config once, answer, report
    discover( //                  authority -> destination; unknown -> 503 WEFT_ERR_NO_ENDPOINTS
      routeMatch( //              first matching rule -> that rule's stack; none -> 404
        routeStacks(deps))));
}

/** Route target: everything one rule says, in the order a request meets it. */
function routeStacks(deps: OutboundStackDeps): (rule: CompiledRule) => Service<RouteRequest> {
  const backend = backendStacks(deps);
  return perTarget((rule: CompiledRule) =>
    traceClient(rule, deps.tracing, //         CLIENT span, continuing the app's traceparent
      timeout(rule, //                          the rule's one deadline, up to response headers (504)
        fault(rule, //                          injected delay / abort
          retry(rule, deps.events, //           retry loop: replay buffer, backoff, per-try timeout
            withAttemptSpans(rule, //           one child span per attempt, when the rule retries
              distribute(rule, backend))))))); // weighted pick of a backend (subset)
}

/** Backend target: the ServicePolicy's balancer (round robin by default) over the subset's ready endpoints. */
function backendStacks(deps: OutboundStackDeps): (backend: CompiledBackend) => Service<AttemptRequest> {
  const endpoint = endpointStacks(deps);
  return perTarget((b: CompiledBackend) => balance<AttemptRequest>(b, endpoint(b)));
}

/** Endpoint target: the endpoint's pooled mTLS connection, peer identity pinned (see EndpointPools). */
function endpointStacks(deps: OutboundStackDeps): (backend: CompiledBackend) => Service<EndpointRequest> {
  return perTarget((b: CompiledBackend) => endpointClient(b.destination, deps.dispatchers));
}

function withAttemptSpans(rule: CompiledRule, next: Service<AttemptRequest>): Service<AttemptRequest> {
  return rule.retry ? traceAttempt(`outbound ${rule.destination.service}`, next) : next;
}
