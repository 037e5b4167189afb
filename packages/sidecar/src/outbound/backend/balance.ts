import type { Readable } from 'node:stream';
import type { EndpointState, EndpointStates } from '../../balance/endpoint-state';
import type { PassiveHealth } from '../../balance/passive-health';
import { buildPicker } from '../../balance/registry';
import type { CompiledBalancer, CompiledEndpoint, CompiledOutlier, CompiledPoolLimits } from '../../config/types';
import { NoEndpointsError, ProxyError } from '../../layers/errors';
import type { HeaderMap, ProxyResponse, Service } from '../../layers/service';
import type { AttemptState } from '../../layers/retry';
import { neverSent, unprocessed } from '../../layers/retry-classify';
import type { Phase } from '../../telemetry/record';
import type { TraceSpan } from '../../telemetry/trace';
import { OverflowError, type PendingQueues } from './pool-limits';
import type { CancelSignal } from '../../layers/cancel';

/** What the balance layer reads from its target (a compiled backend). */
export interface BalanceParams {
  readonly destination: { readonly key: string };
  readonly subset: string | undefined;
  readonly endpoints: readonly CompiledEndpoint[];
  readonly balancer: CompiledBalancer;
  readonly outlier: CompiledOutlier | undefined;
  readonly pool: CompiledPoolLimits;
}

/** What outlives a config version: every endpoint's live state, passive health and every destination's waiting line. */
export interface BalanceEnv {
  readonly states: EndpointStates;
  readonly health: PassiveHealth;
  readonly queues: PendingQueues;
  readonly random?: () => number;
}

export interface BalanceRequest {
  readonly headers: HeaderMap;
  readonly signal: CancelSignal;
  readonly attempt: AttemptState;
  readonly record: { endpoint: string; phase: Phase };
  /** The request's CLIENT span: a recorded one hears of ejected endpoints the pick skipped. */
  readonly span?: Pick<TraceSpan, 'recording' | 'addEvent'>;
}

export type Picked<R> = R & { readonly endpoint: CompiledEndpoint };

/**
 * Picks the endpoint target for one attempt with the balancer the ServicePolicy names (built once
 * per backend and config version), skipping ejected endpoints and, with `maxConnections`, full
 * ones; a retry avoids the endpoint that just failed. While every endpoint is full the attempt
 * waits in the destination's bounded line (pool-limits); a full line is a fast 503. An endpoint
 * counts a request in flight from the pick until its response body ends, which is what
 * least-request compares and what makes an endpoint full. Each attempt's outcome feeds passive
 * health (balance/passive-health), which takes an endpoint whose connection failed out at once;
 * it is told here, in the handlers every attempt already has, so that it costs no extra layer.
 */
export function balance<R extends BalanceRequest>(params: BalanceParams, env: BalanceEnv, next: Service<Picked<R>>): Service<R> {
  const states = params.endpoints.map((e) => env.states.get(e.address));
  const picker = buildPicker(params.balancer, {
    endpoints: params.endpoints,
    states,
    maxConnections: params.pool.maxConnections,
    skipEjected: params.outlier !== undefined,
    random: env.random ?? Math.random,
  });
  const queue = env.queues.for(params.destination.key);
  const health = env.health;
  const destination = params.destination.key;
  const hashHeader = params.balancer.name === 'ring-hash' ? params.balancer.hashHeader : undefined;
  const skipsEjected = params.outlier !== undefined;
  const overflow = {
    maxPendingRequests: params.pool.maxPendingRequests,
    error: () => new OverflowError(params.destination.key, params.subset, params.pool),
  };
  const release = (state: EndpointState): void => {
    state.inflight -= 1;
    queue.wake();
  };

  // What an attempt's outcome does to its endpoint does not depend on the request: one pair of
  // handlers per endpoint, made with the stack, instead of two closures per attempt.
  const settled = states.map((state) => ({
    response: (response: ProxyResponse): ProxyResponse => {
      whenDone(response.body, () => release(state));
      if (unprocessed(response)) health.failed(destination, state, 'WEFT_ERR_APP_UNAVAILABLE');
      else health.succeeded(state);
      return response;
    },
    error: (err: unknown): never => {
      release(state);
      if (err instanceof ProxyError && neverSent({ error: err })) health.failed(destination, state, err.code);
      throw err;
    },
  }));

  const send = (req: R, index: number): Promise<ProxyResponse> => {
    const endpoint = params.endpoints[index] as CompiledEndpoint;
    req.attempt.endpoint = endpoint.address;
    req.record.endpoint = endpoint.address;
    let result: Promise<ProxyResponse>;
    try {
      result = next({ ...req, endpoint });
    } catch (err) {
      result = Promise.reject(err as Error);
    }
    const on = settled[index] as (typeof settled)[number];
    return result.then(on.response, on.error);
  };

  return (req) => {
    const key = hashHeader === undefined ? undefined : firstValue(req.headers[hashHeader]);
    const avoid = req.attempt.avoid;
    const result = picker.pick(avoid, key);
    if (result.kind === 'fail') return Promise.reject(NoEndpointsError.noneReady(params.destination.key, params.subset));
    if (result.kind === 'endpoint') {
      (states[result.index] as EndpointState).inflight += 1;
      // Only a recorded span pays for this look at the other endpoints, and only with outlier detection on.
      if (skipsEjected && req.span?.recording === true) noteSkipped(req.span, states, result.index);
      return send(req, result.index);
    }
    // Every endpoint that may take it is full: wait for one to free up, in a bounded line.
    let taken = -1;
    const tryTake = (): boolean => {
      const again = picker.pick(avoid, key);
      if (again.kind !== 'endpoint') return false;
      (states[again.index] as EndpointState).inflight += 1;
      taken = again.index;
      return true;
    };
    req.record.phase = 'queue';
    return queue.wait(tryTake, req.signal, overflow).then(() => send(req, taken));
  };
}

/**
 * `weft.endpoint_skipped` on the span for each endpoint outlier detection has ejected, when the
 * pick went elsewhere. Not when the picked endpoint is ejected itself: every endpoint was then
 * out (panic mode) and none was skipped.
 */
function noteSkipped(span: Pick<TraceSpan, 'addEvent'>, states: readonly EndpointState[], picked: number): void {
  if ((states[picked] as EndpointState).ejected) return;
  for (const s of states) if (s.ejected) span.addEvent('weft.endpoint_skipped', { 'weft.endpoint': s.address, 'weft.reason': 'ejected' });
}

/** Calls `done` once when a response body has ended, failed or been discarded (at once without one, or for a whole one: its connection is already free). */
function whenDone(body: Readable | Buffer | null, done: () => void): void {
  if (!body || Buffer.isBuffer(body) || body.destroyed) {
    done();
    return;
  }
  // 'close' follows 'end', 'error' and destroy() alike (autoDestroy), so it fires exactly once.
  body.once('close', done);
}

function firstValue(value: string | string[] | undefined): string | undefined {
  return typeof value === 'string' ? value : value?.[0];
}
