import { performance } from 'node:perf_hooks';
import type { EndpointState, EndpointStates } from '../../balance/endpoint-state';
import type { CompiledEndpoint, CompiledOutlier } from '../../config/types';
import { ProxyError } from '../../layers/errors';
import type { ProxyResponse, Service } from '../../layers/service';
import type { TelemetryEvents } from '../../telemetry/events';

/** Outlier detection defaults, filled in by the compiler (Istio's, except maxEjectionPercent). */
export const OUTLIER_DEFAULTS = Object.freeze({
  intervalMs: 10_000,
  baseEjectionMs: 30_000,
  /** Envoy's max_ejection_time: however often an endpoint was ejected, it is tried again after this. */
  maxEjectionMs: 300_000,
  /**
   * Istio defaults to 10%, which with fewer than ten endpoints ejects nothing at all. Half keeps a
   * backend at half its capacity at worst and ejects one bad endpoint out of two or more.
   */
  maxEjectionPercent: 50,
});

/** Errors that say the endpoint failed (not the caller, not the sidecar): they count as 5xx. */
const ENDPOINT_FAILURES = new Set([
  'WEFT_ERR_CONNECT',
  'WEFT_ERR_PEER_IDENTITY',
  'WEFT_ERR_UPSTREAM_RESET',
  'WEFT_ERR_ATTEMPT_TIMEOUT',
  'WEFT_ERR_UPSTREAM_TIMEOUT',
]);

/** `grpc-status` values Envoy maps to a 5xx for outlier detection: deadline, internal, unavailable. */
const GRPC_FAILURES = new Set(['4', '13', '14']);

/** Whether an attempt's outcome counts against the endpoint: a 5xx, a connect failure, a reset, a timeout. */
export function isEndpointFailure(outcome: { readonly response: ProxyResponse } | { readonly error: ProxyError }): boolean {
  if ('error' in outcome) return ENDPOINT_FAILURES.has(outcome.error.code);
  const grpc = outcome.response.headers['grpc-status'];
  return outcome.response.status >= 500 || (typeof grpc === 'string' && GRPC_FAILURES.has(grpc.trim()));
}

/** Time and timers, replaceable in tests. */
export interface OutlierClock {
  now(): number;
  /** Runs `fn` after `ms`; the timer must not keep the process alive. */
  after(ms: number, fn: () => void): void;
}

const REAL_CLOCK: OutlierClock = {
  now: () => performance.now(),
  after: (ms, fn) => setTimeout(fn, ms).unref(),
};

/** What the outlier layer reads from its target (a compiled backend). */
export interface OutlierParams {
  readonly destination: { readonly key: string };
  readonly endpoints: readonly CompiledEndpoint[];
  readonly outlier: CompiledOutlier | undefined;
}

export interface OutlierRequest {
  readonly endpoint: CompiledEndpoint;
}

/**
 * Outlier detection (Envoy's consecutive-5xx, Linkerd's failure accrual): watches every attempt
 * on an endpoint; after `consecutiveErrors` failures in a row the endpoint is ejected, and the
 * pickers pass over it, for `baseEjectionTime` times the number of times it was ejected (at most
 * maxEjectionMs). Then it takes requests again. The count of ejections drops by one for every
 * `interval` the endpoint stays healthy, so an endpoint that failed once long ago starts afresh.
 * At most `maxEjectionPercent` of the backend's endpoints are ejected at once. The state lives in
 * EndpointStates, so an ejection outlasts the config version it happened under.
 */
export function outlier<R extends OutlierRequest>(
  params: OutlierParams,
  env: { readonly states: EndpointStates; readonly events: Pick<TelemetryEvents, 'emit'>; readonly clock?: OutlierClock },
  next: Service<R>,
): Service<R> {
  const config = params.outlier;
  if (!config) return next;
  const detector = new OutlierDetector(params.destination.key, config, params.endpoints.map((e) => env.states.get(e.address)), env.events, env.clock);
  return (req) => {
    const state = env.states.get(req.endpoint.address);
    return next(req).then(
      (response) => {
        detector.observe(state, isEndpointFailure({ response }));
        return response;
      },
      (err: unknown) => {
        if (err instanceof ProxyError) detector.observe(state, isEndpointFailure({ error: err }));
        throw err;
      },
    );
  };
}

/** The ejection arithmetic for one backend's endpoints; see `outlier`. */
export class OutlierDetector {
  readonly #destination: string;
  readonly #config: CompiledOutlier;
  readonly #backend: readonly EndpointState[];
  readonly #events: Pick<TelemetryEvents, 'emit'>;
  readonly #clock: OutlierClock;

  constructor(destination: string, config: CompiledOutlier, backend: readonly EndpointState[], events: Pick<TelemetryEvents, 'emit'>, clock: OutlierClock = REAL_CLOCK) {
    this.#destination = destination;
    this.#config = config;
    this.#backend = backend;
    this.#events = events;
    this.#clock = clock;
  }

  /** Records one attempt's outcome on `state`; ejects it when this failure is one too many. */
  observe(state: EndpointState, failed: boolean): void {
    if (!failed) {
      state.consecutiveErrors = 0;
      return;
    }
    state.consecutiveErrors += 1;
    if (state.ejected || state.consecutiveErrors < this.#config.consecutiveErrors || !this.#roomToEject()) return;
    this.#eject(state);
  }

  /** Ejecting one more must keep the ejected share of the backend within maxEjectionPercent. */
  #roomToEject(): boolean {
    let ejected = 0;
    for (const s of this.#backend) if (s.ejected) ejected++;
    return (ejected + 1) * 100 <= this.#config.maxEjectionPercent * this.#backend.length;
  }

  #eject(state: EndpointState): void {
    const now = this.#clock.now();
    if (state.ejections > 0) {
      // Decay: one ejection forgiven per interval spent healthy since it last came back.
      const healthy = Math.floor((now - state.returnedAtMs) / this.#config.intervalMs);
      state.ejections = Math.max(0, state.ejections - healthy);
    }
    state.ejections += 1;
    state.ejected = true;
    const durationMs = Math.min(this.#config.maxEjectionMs, this.#config.baseEjectionMs * state.ejections);
    this.#events.emit('weft:endpoint-ejected', {
      destination: this.#destination,
      endpoint: state.address,
      ejections: state.ejections,
      durationMs,
      consecutiveErrors: state.consecutiveErrors,
    });
    this.#clock.after(durationMs, () => {
      state.ejected = false;
      state.consecutiveErrors = 0;
      state.returnedAtMs = this.#clock.now();
      this.#events.emit('weft:endpoint-returned', { destination: this.#destination, endpoint: state.address });
    });
  }
}
