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
  /** A Route's fault injection delayed a request or answered it itself (abort). */
  'weft:fault-injected': { readonly destination: string; readonly route: string; readonly fault: 'delay' | 'abort' };
  /** An inbound request was refused by the local rate limit (429). */
  'weft:rate-limited': { readonly destination: string; readonly source: string };
  /** An inbound request was refused by authorization (`policy` is '' when no ALLOW rule matched). */
  'weft:authz-denied': { readonly source: string; readonly destination: string; readonly policy: string; readonly cause: string };
  /** A client's HTTP/2 session was closed with GOAWAY ENHANCE_YOUR_CALM for resetting streams abusively. */
  'weft:h2-session-closed': { readonly direction: Direction; readonly reason: 'rapid-reset' };
  /**
   * A listener cut a client off for being too slow: its request headers did not arrive in time
   * (`headers`, HTTP/1.1), or its request body stopped arriving (`body_idle`).
   */
  'weft:downstream-timeout': { readonly direction: Direction; readonly reason: 'headers' | 'body_idle' };
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

type Listener = (payload: never) => void;

export class TelemetryEvents {
  /**
   * Listeners per event, in arrays replaced (never changed) on subscribe and unsubscribe: `emit`,
   * once per request, walks a plain array, and a listener that unsubscribes during an emit does
   * not disturb it.
   */
  readonly #listeners = new Map<WeftEventName, readonly Listener[]>();
  readonly #log: Logger | undefined;

  constructor(log?: Logger) {
    this.#log = log;
  }

  /** Subscribes; returns a function that unsubscribes. */
  on<K extends WeftEventName>(name: K, listener: (payload: WeftEvents[K]) => void): () => void {
    this.#listeners.set(name, [...(this.#listeners.get(name) ?? []), listener]);
    return () => {
      const rest = (this.#listeners.get(name) ?? []).filter((l) => l !== listener);
      if (rest.length === 0) this.#listeners.delete(name);
      else this.#listeners.set(name, rest);
    };
  }

  emit<K extends WeftEventName>(name: K, payload: WeftEvents[K]): void {
    const listeners = this.#listeners.get(name);
    if (listeners === undefined) return;
    for (let i = 0; i < listeners.length; i++) {
      // Observation must never fail the request that is being observed.
      try {
        (listeners[i] as (p: WeftEvents[K]) => void)(payload);
      } catch (err) {
        this.#log?.debug('event listener failed', { event: name, error: err });
      }
    }
  }
}
