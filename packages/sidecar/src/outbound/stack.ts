import { EndpointStates } from '../balance/endpoint-state';
import { PassiveHealth } from '../balance/passive-health';
import type { CompiledBackend, CompiledConfig, CompiledRule } from '../config/types';
import type { DownstreamHandler } from '../http/downstream';
import type { Service } from '../layers/service';
import { perTarget } from '../layers/per-target';
import { retry, type Attempted } from '../layers/retry';
import { RetryBudgets } from '../layers/retry-budget';
import { timeout } from '../layers/timeout';
import type { TelemetryEvents } from '../telemetry/events';
import type { Tracing } from '../telemetry/trace';
import { traceAttempt, traceClient, type WithSpan } from '../telemetry/trace-layers';
import { acceptOutbound } from './accept';
import { balance } from './backend/balance';
import { outlier } from './backend/outlier';
import { PendingQueues } from './backend/pool-limits';
import { discover, type Discovered } from './discover';
import { upstreamClient, type UpstreamRequest, type Upstreams } from './endpoint/upstream';
import { distribute } from './route/distribute';
import { fault } from './route/fault';
import { headers } from './route/headers';
import { routeMatch } from './route/match';
import type { OutboundRequest } from './types';

export interface OutboundStackDeps {
  readonly config: { readonly current: CompiledConfig | undefined };
  /** `service.namespace` of this sidecar. */
  readonly source: string;
  readonly events: TelemetryEvents;
  readonly tracing: Pick<Tracing, 'startSpan'>;
  /** mTLS connections to peer sidecars (pooled HTTP/1.1, HTTP/2 sessions, tunnels), identity pinned. */
  readonly upstreams: Upstreams;
}

/** A request once a rule is chosen, inside the CLIENT span, on one attempt. */
type RouteRequest = Discovered<OutboundRequest>;
type AttemptRequest = Attempted<WithSpan<RouteRequest>>;

/**
 * What outlives config versions, for the life of the listener: each endpoint's live state (in
 * flight, passive health, ejections), each destination's waiting line and retry budget. Keyed by address and
 * destination, so a config update rebuilds the stacks around the same state.
 */
interface Lasting {
  readonly states: EndpointStates;
  readonly health: PassiveHealth;
  readonly queues: PendingQueues;
  readonly budgets: RetryBudgets;
}

/**
 * The outbound request path, top to bottom. Targets go logical (the service asked for) -> route
 * (one rule) -> backend (one subset) -> endpoint (one peer sidecar); each target's stack is built
 * once per compiled target and reused, so a request only runs handlers.
 */
export function outboundStack(deps: OutboundStackDeps): DownstreamHandler {
  return acceptOutbound(deps, //  parse the request, read the config once, answer, report
    discover( //                  authority -> destination; unknown -> 503 WEFT_ERR_NO_ENDPOINTS
      routeMatch( //              first matching rule -> that rule's stack; none -> 404
        routeStacks(deps, lasting(deps)))));
}

function lasting(deps: OutboundStackDeps): Lasting {
  const health = new PassiveHealth({ events: deps.events });
  return { states: new EndpointStates((state) => health.forget(state)), health, queues: new PendingQueues(), budgets: new RetryBudgets() };
}

/** Route target: everything one rule says, in the order a request meets it. */
function routeStacks(deps: OutboundStackDeps, lasting: Lasting): (rule: CompiledRule) => Service<RouteRequest> {
  const backend = backendStacks(deps, lasting);
  const retryEnv = { events: deps.events, budgets: lasting.budgets };
  return perTarget((rule: CompiledRule) =>
    traceClient(rule, deps.tracing, //         CLIENT span, continuing the app's traceparent
      timeout(rule, //                          the rule's one deadline, up to response headers (504)
        headers(rule, //                        the rule's request / response header changes
          fault(rule, deps, //                  injected delay / abort
            retry(rule, retryEnv, //            retry loop (a Route's, or the default for attempts that reached no app): replay, backoff, budget
              withAttemptSpans(rule, //         one child span per attempt, when the rule retries
                distribute(rule, backend)))))))); // weighted pick of a backend (subset)
}

/** Backend target: the ServicePolicy's balancer (round robin by default) over the subset's ready endpoints. */
function backendStacks(deps: OutboundStackDeps, lasting: Lasting): (backend: CompiledBackend) => Service<AttemptRequest> {
  const endpoint = endpointStacks(deps);
  return perTarget((b: CompiledBackend) => {
    lasting.states.sweep(deps.config.current); // forget endpoints that left the config (once per version)
    return balance<AttemptRequest>(b, lasting, //  balancer by name, skipping failing (passive health), ejected and full
      //                                            endpoints; none healthy -> all (panic); all full -> wait in a bounded
      //                                            line (pool limits), line full -> 503 WEFT_ERR_OVERFLOW
      outlier(b, { states: lasting.states, events: deps.events }, // consecutive failures eject an endpoint for a while
        endpoint(b)));
  });
}

/**
 * Endpoint target: the mTLS hop to the endpoint's sidecar, peer identity pinned; HTTP/2 stays
 * HTTP/2, HTTP/1.1 goes pooled (or multiplexed), an Upgrade gets a tunnel (see endpoint/upstream).
 */
function endpointStacks(deps: OutboundStackDeps): (backend: CompiledBackend) => Service<UpstreamRequest> {
  return perTarget((b: CompiledBackend) => upstreamClient(b.destination, deps.upstreams));
}

/** Attempt spans for a Route's retries; the default retry marks its retries as events on the CLIENT span instead. */
function withAttemptSpans(rule: CompiledRule, next: Service<AttemptRequest>): Service<AttemptRequest> {
  return rule.retry && !rule.retry.byDefault ? traceAttempt(`outbound ${rule.destination.service}`, next) : next;
}
