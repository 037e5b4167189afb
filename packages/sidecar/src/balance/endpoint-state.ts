import type { EndpointLoad } from './picker';

/**
 * The live state of one endpoint as this sidecar sees it: requests in flight (least-request and
 * pool limits read it), passive health's and outlier detection's bookkeeping. It lives in EndpointStates, keyed by
 * address, not in a compiled config: a config update rebuilds pickers around the same objects,
 * so counts, ejections and the requests in flight across the swap are not forgotten.
 */
export class EndpointState implements EndpointLoad {
  readonly address: string;
  /** Requests sent to this endpoint whose response has not ended yet. */
  inflight = 0;
  /** Failed attempts in a row (5xx, connect failure, reset, timeout); any success resets it. */
  consecutiveErrors = 0;
  ejected = false;
  /** How often it was ejected, decayed while it stays healthy; multiplies the ejection time. */
  ejections = 0;
  /** When it last came back (performance.now() ms), for the decay of `ejections`. */
  returnedAtMs = 0;
  /** Out of balancing by passive health: a connection to it failed; a probe or a request brings it back. */
  failing = false;
  /** Times passive health took it out since a request last got through; grows its backoff. */
  downs = 0;
  /** The destination it was taken out for, for the events that say it is back. */
  downFor = '';
  /** Left the config and was forgotten: pending probes stop. */
  retired = false;

  constructor(address: string) {
    this.address = address;
  }
}

/** What the sweep needs from a compiled config: every endpoint address it still lists. */
export interface LiveEndpoints {
  readonly services: ReadonlyMap<string, { readonly allEndpoints: readonly { readonly address: string }[] }>;
}

/**
 * Every endpoint's live state, for the life of the outbound listener. Pickers of every config
 * version share these objects. States of endpoints that left the config are dropped once they
 * have nothing in flight and no ejection pending (`sweep`, at most once per config version).
 */
export class EndpointStates {
  readonly #states = new Map<string, EndpointState>();
  readonly #onForget: ((state: EndpointState) => void) | undefined;
  #sweptFor: LiveEndpoints | undefined;

  /** `onForget` hears of each state dropped by `sweep` (passive health closes its books on it). */
  constructor(onForget?: (state: EndpointState) => void) {
    this.#onForget = onForget;
  }

  /** The state of `address`, created on first use. */
  get(address: string): EndpointState {
    let state = this.#states.get(address);
    if (!state) {
      state = new EndpointState(address);
      this.#states.set(address, state);
    }
    return state;
  }

  /** Forgets endpoints `config` no longer lists and nothing refers to in flight. */
  sweep(config: LiveEndpoints | undefined): void {
    if (!config || config === this.#sweptFor) return;
    this.#sweptFor = config;
    const live = new Set<string>();
    for (const s of config.services.values()) for (const e of s.allEndpoints) live.add(e.address);
    for (const [address, state] of this.#states) {
      if (live.has(address) || state.inflight !== 0 || state.ejected) continue;
      this.#states.delete(address);
      state.retired = true;
      this.#onForget?.(state);
    }
  }

  get size(): number {
    return this.#states.size;
  }
}
