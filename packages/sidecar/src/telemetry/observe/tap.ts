import type { TapEvent, TapFilter, TapStart } from '@weft/api';
import type { RequestRecord } from '../record';

export const TAP_DEFAULT_MAX_RPS = 100;
const TAP_MAX_DURATION_MS = 3_600_000;
/** Events are sent in batches this often (and at once when this many wait). */
export const TAP_FLUSH_MS = 200;
const TAP_BATCH = 100;

/** What a tap sends: a batch of events, how many were left out since the last batch, whether it ended. */
export interface TapBatch {
  readonly events: TapEvent[];
  readonly dropped: number;
  readonly ended: boolean;
}

/**
 * One `weftctl tap` on this proxy: a filter, a rate limit (events per second), and a deadline.
 * It copies only the listed fields of a matching request: never a header, a body or a query
 * string (the record's path has none; anything after `?` is cut again here, in case).
 */
export class TapSession {
  readonly #filter: TapFilter;
  readonly #maxRps: number;
  readonly #send: (batch: TapBatch) => void;
  readonly #timer: NodeJS.Timeout;
  readonly #deadline: NodeJS.Timeout;
  #events: TapEvent[] = [];
  #dropped = 0;
  #secondStartMs = 0;
  #inSecond = 0;
  #ended = false;

  constructor(start: TapStart, send: (batch: TapBatch) => void, onEnd: () => void) {
    const f = start.filter;
    this.#filter = { from: f?.from ?? '', to: f?.to ?? '', pathPrefix: f?.pathPrefix ?? '', method: (f?.method ?? '').toUpperCase(), direction: f?.direction ?? '' };
    this.#maxRps = start.maxRps > 0 ? start.maxRps : TAP_DEFAULT_MAX_RPS;
    this.#send = send;
    const durationMs = start.durationMs > 0 ? Math.min(start.durationMs, TAP_MAX_DURATION_MS) : TAP_MAX_DURATION_MS;
    this.#timer = setInterval(() => this.#flush(false), TAP_FLUSH_MS).unref();
    this.#deadline = setTimeout(() => onEnd(), durationMs).unref();
  }

  /** A finished request: kept when it matches and the second's budget is not spent. */
  offer(record: RequestRecord, durationMs: number, nowMs: number): void {
    if (this.#ended || !this.#matches(record)) return;
    if (nowMs - this.#secondStartMs >= 1000) {
      this.#secondStartMs = nowMs;
      this.#inSecond = 0;
    }
    if (this.#inSecond >= this.#maxRps) {
      this.#dropped++;
      return;
    }
    this.#inSecond++;
    this.#events.push(tapEventOf(record, durationMs, nowMs));
    if (this.#events.length >= TAP_BATCH) this.#flush(false);
  }

  /** Sends what is left, says the tap ended, and stops its timers. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    clearInterval(this.#timer);
    clearTimeout(this.#deadline);
    this.#flush(true);
  }

  #matches(r: RequestRecord): boolean {
    const f = this.#filter;
    return (
      (f.direction === '' || f.direction === r.direction) &&
      (f.from === '' || f.from === r.source) &&
      (f.to === '' || f.to === r.destination) &&
      (f.method === '' || f.method === r.method) &&
      (f.pathPrefix === '' || r.path.startsWith(f.pathPrefix))
    );
  }

  #flush(ended: boolean): void {
    if (this.#events.length === 0 && this.#dropped === 0 && !ended) return;
    const batch: TapBatch = { events: this.#events, dropped: this.#dropped, ended };
    this.#events = [];
    this.#dropped = 0;
    this.#send(batch);
  }
}

/** The fields `weftctl tap` shows, and nothing else. */
export function tapEventOf(r: RequestRecord, durationMs: number, nowMs: number): TapEvent {
  const q = r.path.indexOf('?');
  return {
    atMs: nowMs,
    proxyId: '',
    direction: r.direction,
    source: r.source,
    destination: r.destination,
    route: r.route,
    method: r.method,
    authority: r.authority,
    path: q < 0 ? r.path : r.path.slice(0, q),
    status: r.status,
    grpcStatus: r.grpcStatus,
    latencyMs: durationMs,
    peerIdentity: r.peerIdentity,
    // Inbound: the caller proved this identity with its certificate; outbound: the destination must.
    mtls: r.peerIdentity !== '',
    traceId: r.traceId,
    errorCode: r.errorCode,
  };
}
