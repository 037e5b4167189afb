import { probeConnect, type ConnectProbeResult } from '@weft/api';
import { parseHostPort } from '../control/address';
import type { TelemetryEvents } from '../telemetry/events';
import type { EndpointState } from './endpoint-state';

/**
 * Passive health defaults (in force with or without `outlierDetection`). Linkerd's balancer takes
 * an endpoint whose connections fail out of rotation at once and reconnects with a backoff; these
 * are the same idea at Linkerd's failure-accrual scale: a first second out, doubling while it
 * stays down, at most thirty seconds between probes.
 */
export const PASSIVE_HEALTH_DEFAULTS = Object.freeze({
  firstBackoffMs: 1_000,
  maxBackoffMs: 30_000,
  /** A probe that gets no answer in this long proves nothing, and the endpoint stays out. */
  probeTimeoutMs: 1_000,
});

/** Time and probes, replaceable in tests. */
export interface HealthEnv {
  readonly events: Pick<TelemetryEvents, 'emit'>;
  /** Runs `fn` after `ms`; the timer must not keep the process alive. */
  readonly after?: (ms: number, fn: () => void) => void;
  /** Whether something accepts connections at an endpoint's address (a TCP connect by default). */
  readonly probe?: (address: string) => Promise<ConnectProbeResult>;
}

const realAfter = (ms: number, fn: () => void): void => {
  setTimeout(fn, ms).unref();
};

const tcpProbe = (address: string): Promise<ConnectProbeResult> => {
  const { host, port } = parseHostPort(address, 'the endpoint address');
  return probeConnect(host, port, PASSIVE_HEALTH_DEFAULTS.probeTimeoutMs);
};

/**
 * Passive health of every endpoint, for the life of the outbound listener: an endpoint is taken
 * out of balancing the moment an attempt on it fails before reaching its app (connect refused or
 * timed out, TLS failure, the peer sidecar saying its app refused), with no configuration needed.
 * After a backoff (1 s, doubling to 30 s while it stays down) a TCP connect probes it: a refusal
 * or silence keeps it out for the next, longer backoff; a connection lets it back in, where the
 * next request is its trial: if that fails too it goes straight out again with a doubled backoff,
 * if it gets any answer, the backoff starts afresh. A request that gets through to an endpoint
 * that is out (the balancer sends there when nothing is healthy: panic) brings it back at once.
 *
 * It only reads and writes fields of EndpointState, which the pickers read; there is one timer
 * per endpoint that is out, none per request. Outlier detection, when configured, keeps its own
 * meaning on top: it ejects for 5xx and resets, this for failures to connect.
 */
export class PassiveHealth {
  readonly #events: Pick<TelemetryEvents, 'emit'>;
  readonly #after: (ms: number, fn: () => void) => void;
  readonly #probe: (address: string) => Promise<ConnectProbeResult>;

  constructor(env: HealthEnv) {
    this.#events = env.events;
    this.#after = env.after ?? realAfter;
    this.#probe = env.probe ?? tcpProbe;
  }

  /** An attempt on `state` failed before its app saw the request (`reason`: the error code). Out at once. */
  failed(destination: string, state: EndpointState, reason: string): void {
    if (state.failing || state.retired) return;
    state.failing = true;
    state.downs += 1;
    state.downFor = destination;
    const backoffMs = backoffFor(state.downs);
    this.#events.emit('weft:endpoint-down', { destination, endpoint: state.address, reason, backoffMs, downs: state.downs });
    this.#after(backoffMs, () => this.#check(state));
  }

  /** An attempt on `state` got an answer from the app. The hot path: one field read when all is well. */
  succeeded(state: EndpointState): void {
    if (state.downs === 0) return;
    state.downs = 0;
    if (state.failing) this.#back(state, 'request');
  }

  /** `state` left the config and its state was dropped: it no longer counts as out. */
  forget(state: EndpointState): void {
    if (state.failing) this.#back(state, 'removed');
  }

  #check(state: EndpointState): void {
    if (!state.failing || state.retired) return;
    this.#probe(state.address).then(
      (result) => this.#probed(state, result),
      () => this.#probed(state, 'unknown'),
    );
  }

  #probed(state: EndpointState, result: ConnectProbeResult): void {
    if (!state.failing || state.retired) return;
    if (result === 'listening') {
      this.#back(state, 'probe');
      return;
    }
    state.downs += 1;
    this.#after(backoffFor(state.downs), () => this.#check(state));
  }

  #back(state: EndpointState, by: 'probe' | 'request' | 'removed'): void {
    state.failing = false;
    this.#events.emit('weft:endpoint-up', { destination: state.downFor, endpoint: state.address, by });
  }
}

/** The time out before the `downs`-th probe: 1 s, 2 s, 4 s ... at most 30 s. */
export function backoffFor(downs: number): number {
  const { firstBackoffMs, maxBackoffMs } = PASSIVE_HEALTH_DEFAULTS;
  return Math.min(maxBackoffMs, firstBackoffMs * 2 ** Math.min(16, Math.max(0, downs - 1)));
}
