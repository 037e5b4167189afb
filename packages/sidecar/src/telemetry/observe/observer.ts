import { OBSERVE_FEATURE, type ObserveReply, type ObserveRequest } from '@weft/api';
import type { TelemetryEvents } from '../events';
import type { RequestRecord } from '../record';
import { TapSession } from './tap';
import { TrafficSummary } from './traffic-summary';

const FEATURES: readonly string[] = Object.freeze([OBSERVE_FEATURE]);

/** How the observer answers: one reply on the discovery stream the request came on. */
export type ObserveReplyFn = (reply: ObserveReply) => void;

/**
 * The sidecar's side of `weftctl stat`, `top`, `tap` and `edges`. It keeps the traffic summary
 * (always: it is what `stat` reads) and runs taps only while the control plane has one open.
 * With no tap, a finished request costs the summary's counting plus one `undefined` check:
 * no tap object, event or string is made.
 */
export class Observer {
  /** What the node announces, so that the control plane sends ObserveRequests to it. */
  readonly features: readonly string[] = FEATURES;
  readonly summary: TrafficSummary;
  /** Open taps by id; undefined (not empty) when there is none, for the one check per request. */
  #taps: Map<string, TapSession> | undefined;
  readonly #now: () => number;

  constructor(selfIdentity: string, events: Pick<TelemetryEvents, 'on'>, now: () => number = Date.now) {
    this.#now = now;
    this.summary = new TrafficSummary(selfIdentity, now);
    events.on('weft:request-end', ({ record, durationMs }) => this.#onRequestEnd(record, durationMs));
    events.on('weft:tcp-open', (labels) => this.summary.tcpOpened(labels));
    events.on('weft:tcp-end', (e) => this.summary.tcpEnded(e, e.receivedBytes, e.sentBytes));
  }

  get activeTaps(): number {
    return this.#taps?.size ?? 0;
  }

  /** Answers one request from the control plane; taps keep replying until they end. */
  handle(req: ObserveRequest, reply: ObserveReplyFn): void {
    const id = req.id;
    if (req.stat) reply({ id, stat: this.summary.stat(Number(req.stat.windowMs) || 60_000) });
    else if (req.edges) reply({ id, edges: this.summary.edges() });
    else if (req.tap) this.#startTap(id, req, reply);
    else if (req.tapStop) this.#taps?.get(id)?.end();
    else reply({ id, error: 'this sidecar does not understand the request: it is older than the control plane' });
  }

  /** The stream the taps reply on ended: nobody listens any more. */
  endTaps(): void {
    for (const tap of [...(this.#taps?.values() ?? [])]) tap.end();
  }

  #startTap(id: string, req: ObserveRequest, reply: ObserveReplyFn): void {
    if (this.#taps?.has(id)) return;
    const tap = new TapSession(
      req.tap as NonNullable<ObserveRequest['tap']>,
      (batch) => {
        if (batch.ended) this.#forget(id);
        reply({ id, tapEvents: batch.events, tapDropped: batch.dropped, tapEnded: batch.ended });
      },
      () => tap.end(),
    );
    (this.#taps ??= new Map()).set(id, tap);
  }

  #forget(id: string): void {
    this.#taps?.delete(id);
    if (this.#taps?.size === 0) this.#taps = undefined;
  }

  #onRequestEnd(record: RequestRecord, durationMs: number): void {
    this.summary.count(record, durationMs);
    const taps = this.#taps;
    if (taps === undefined) return;
    const nowMs = this.#now();
    for (const tap of taps.values()) tap.offer(record, durationMs, nowMs);
  }
}
