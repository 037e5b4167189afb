import type { Logger } from '@weft/api';
import type { Direction, RequestRecord } from './record';

/**
 * Named events of the data path. Layers emit them and know nothing of metrics, logs or traces;
 * telemetry subscribes (STYLE 11). One instance per sidecar, so that several sidecars in one
 * process (as in tests) never count each other's requests.
 */
export interface WeftEvents {
  /** A request finished: the response was fully written, failed, or the client went away. */
  'weft:request-end': { readonly record: RequestRecord; readonly durationMs: number };
  /**
   * An attempt failed and another is about to be made. `reason` says why (`connect-failure`,
   * `app-unreachable`, `status 503`, `grpc unavailable`, ...); `byDefault` when the mesh's default
   * retry made it rather than a Route's `retries`.
   */
  'weft:retry': { readonly destination: string; readonly route: string; readonly attempt: number; readonly reason: string; readonly byDefault: boolean };
  /** A failed attempt that retryOn covers was not retried: the budget is spent, or the method is not idempotent. */
  'weft:retry-skipped': { readonly destination: string; readonly route: string; readonly reason: 'budget' | 'non-idempotent' };
  /** Outlier detection took an endpoint out of balancing for `durationMs` (its `ejections`-th time). */
  'weft:endpoint-ejected': {
    readonly destination: string;
    readonly endpoint: string;
    readonly ejections: number;
    readonly durationMs: number;
    readonly consecutiveErrors: number;
  };
  /** An ejected endpoint's time is up: it takes requests again. */
  'weft:endpoint-returned': { readonly destination: string; readonly endpoint: string };
  /**
   * Passive health took an endpoint out of balancing because a connection to it failed
   * (`reason` is the error code); it is probed again after `backoffMs` (its `downs`-th time in a row).
   */
  'weft:endpoint-down': { readonly destination: string; readonly endpoint: string; readonly reason: string; readonly backoffMs: number; readonly downs: number };
  /**
   * An endpoint passive health had taken out is back: a probe connected (`probe`), a request got
   * through (`request`), or it left the config and no longer counts (`removed`).
   */
  'weft:endpoint-up': { readonly destination: string; readonly endpoint: string; readonly by: 'probe' | 'request' | 'removed' };
  /** An inbound request was refused by the local rate limit (429). */
  'weft:rate-limited': { readonly destination: string; readonly source: string };
  /** An inbound request was refused by authorization (`policy` is '' when no ALLOW rule matched). */
  'weft:authz-denied': { readonly source: string; readonly destination: string; readonly policy: string; readonly cause: string };
  /** A TCP connection was forwarded to a peer sidecar (outbound) or to the app (inbound). */
  'weft:tcp-open': TcpConnectionLabels;
  /**
   * A TCP connection ended. `receivedBytes` came from the side that opened it (the app outbound,
   * the peer inbound), `sentBytes` went back to it; `errorCode` is '' for a clean close.
   */
  'weft:tcp-end': TcpConnectionLabels & {
    readonly receivedBytes: number;
    readonly sentBytes: number;
    readonly durationMs: number;
    readonly errorCode: string;
  };
}

/** Who a TCP connection was between, as metrics label it. */
export interface TcpConnectionLabels {
  readonly direction: Direction;
  readonly source: string;
  readonly destination: string;
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
