import type { CompiledEndpoint } from '../config/types';

/**
 * What a balancer publishes: an immutable picker whose synchronous `pick()` answers with a tagged
 * result (the grpc-js shape). `queue` means every endpoint that may take the request is full
 * (at `maxConnections`): the caller waits for one to free up (outbound/backend/pool-limits).
 * `index` is the endpoint's position in the backend's list, where its live state sits too.
 */
export type PickResult =
  | { readonly kind: 'endpoint'; readonly endpoint: CompiledEndpoint; readonly index: number }
  | { readonly kind: 'queue' }
  | { readonly kind: 'fail'; readonly reason: 'no-endpoints' };

export interface Picker {
  /**
   * Picks an endpoint for one attempt. `avoid` is the address of the endpoint whose attempt just
   * failed: a picker returns another one when it has any. `key` is the request's hash key, for
   * the balancers that use one (ring-hash).
   */
  pick(avoid?: string, key?: string): PickResult;
}

/** The live facts a picker reads about an endpoint (balance/endpoint-state.ts keeps them). */
export interface EndpointLoad {
  readonly inflight: number;
  /** Ejected by outlier detection (counts only where the backend configures it). */
  readonly ejected: boolean;
  /** Taken out by passive health: a connection to it just failed (balance/passive-health). */
  readonly failing: boolean;
}

/** What every picker is built from: one backend's endpoints and their live state, in one order. */
export interface PickerInputs {
  readonly endpoints: readonly CompiledEndpoint[];
  /** Aligned with `endpoints`; the objects outlive the config version, their fields change. */
  readonly states: readonly EndpointLoad[];
  /** An endpoint with this many requests in flight is full; undefined: never full. */
  readonly maxConnections: number | undefined;
  /** Skip ejected endpoints (outlier detection is on for this backend). Failing ones are always skipped. */
  readonly skipEjected: boolean;
  readonly random: () => number;
}

export const NO_ENDPOINTS: PickResult = Object.freeze({ kind: 'fail', reason: 'no-endpoints' });
export const QUEUE: PickResult = Object.freeze({ kind: 'queue' });

/**
 * The part every balancer shares: which endpoints may take a request, and what to do when the
 * strategy finds none. A strategy only implements `choose`: among the endpoints `usable()` allows,
 * not counting `avoid`, which one (or -1). The order of fallbacks:
 *   1. the strategy's choice among healthy endpoints with room, other than the one that just failed;
 *   2. the one that just failed, when it is the only healthy one with room;
 *   3. wait (`queue`) when healthy endpoints exist but all are full;
 *   4. when no endpoint is healthy (each failing by passive health or ejected by outlier
 *      detection), ignore both ("panic", as Envoy does below its panic threshold): sending to an
 *      endpoint that may have recovered beats failing every request, and the retry budget
 *      bounds what the attempts cost.
 */
export abstract class BasePicker implements Picker {
  protected readonly inputs: PickerInputs;
  readonly #results: readonly PickResult[];
  readonly #index: ReadonlyMap<string, number>;
  /** Whether health counts in the current `choose` call (false in panic). */
  #strict = true;

  constructor(inputs: PickerInputs) {
    this.inputs = inputs;
    // Built once so that a pick allocates nothing.
    this.#results = inputs.endpoints.map((endpoint, index) => Object.freeze({ kind: 'endpoint' as const, endpoint, index }));
    this.#index = new Map(inputs.endpoints.map((e, i) => [e.address, i]));
  }

  pick(avoid?: string, key?: string): PickResult {
    const n = this.inputs.endpoints.length;
    if (n === 0) return NO_ENDPOINTS;
    const avoidIndex = avoid === undefined ? -1 : (this.#index.get(avoid) ?? -1);
    this.#strict = true;
    let i = this.#chooseOrAvoided(avoidIndex, key);
    if (i < 0) {
      if (this.#anyHealthy()) return QUEUE;
      this.#strict = false;
      i = this.#chooseOrAvoided(avoidIndex, key);
    }
    return i < 0 ? QUEUE : (this.#results[i] as PickResult);
  }

  /** Whether endpoint `i` may take a request now. */
  protected usable(i: number): boolean {
    const s = this.inputs.states[i];
    if (!s) return false;
    if (this.#strict && (s.failing || (s.ejected && this.inputs.skipEjected))) return false;
    const max = this.inputs.maxConnections;
    return max === undefined || s.inflight < max;
  }

  /** The strategy: an index `usable()` allows, other than `avoid`; -1 when there is none. */
  protected abstract choose(avoid: number, key: string | undefined): number;

  /** How many endpoints `usable()` allows, other than `avoid`. */
  protected countUsable(avoid: number): number {
    let count = 0;
    for (let i = 0; i < this.inputs.endpoints.length; i++) if (i !== avoid && this.usable(i)) count++;
    return count;
  }

  /** The index of the `rank`-th (from 0) usable endpoint other than `avoid`. */
  protected nthUsable(rank: number, avoid: number): number {
    let seen = 0;
    for (let i = 0; i < this.inputs.endpoints.length; i++) {
      if (i === avoid || !this.usable(i)) continue;
      if (seen === rank) return i;
      seen++;
    }
    return -1;
  }

  #chooseOrAvoided(avoid: number, key: string | undefined): number {
    const i = this.choose(avoid, key);
    if (i >= 0) return i;
    return avoid >= 0 && this.usable(avoid) ? avoid : -1;
  }

  #anyHealthy(): boolean {
    const skipEjected = this.inputs.skipEjected;
    for (const s of this.inputs.states) if (!s.failing && !(s.ejected && skipEjected)) return true;
    return false;
  }
}

/** A uniform random integer in [0, n). */
export function randomBelow(n: number, random: () => number): number {
  return Math.min(n - 1, Math.floor(random() * n));
}
