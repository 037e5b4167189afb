import type { Logger } from '@weft/api';
import type { RequestRecord } from './record';

/**
 * Named events of the data path. Layers emit them and know nothing of metrics, logs or traces;
 * telemetry subscribes (STYLE 11). One instance per sidecar, so that several sidecars in one
 * process (as in tests) never count each other's requests.
 */
export interface WeftEvents {
  /** A request finished: the response was fully written, failed, or the client went away. */
  'weft:request-end': { readonly record: RequestRecord; readonly durationMs: number };
  /** An attempt failed and another is about to be made. */
  'weft:retry': { readonly destination: string; readonly route: string; readonly attempt: number; readonly reason: string };
}

export type WeftEventName = keyof WeftEvents;

export class TelemetryEvents {
  readonly #listeners = new Map<WeftEventName, Set<(payload: never) => void>>();
  readonly #log: Logger | undefined;

  constructor(log?: Logger) {
    this.#log = log;
  }

  /** Subscribes; returns a function that unsubscribes. */
  on<K extends WeftEventName>(name: K, listener: (payload: WeftEvents[K]) => void): () => void {
    let set = this.#listeners.get(name);
    if (!set) {
      set = new Set();
      this.#listeners.set(name, set);
    }
    set.add(listener);
    return () => set.delete(listener);
  }

  emit<K extends WeftEventName>(name: K, payload: WeftEvents[K]): void {
    const set = this.#listeners.get(name);
    if (!set) return;
    for (const listener of set) {
      // Observation must never fail the request that is being observed.
      try {
        (listener as (p: WeftEvents[K]) => void)(payload);
      } catch (err) {
        this.#log?.debug('event listener failed', { event: name, error: err });
      }
    }
  }
}
