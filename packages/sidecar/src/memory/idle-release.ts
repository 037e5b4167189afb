import type { Logger } from '@weft/api';
import type { ProxyListener } from '../listener';
import type { MemoryReleased, MemoryTrimmed } from './release-memory';

/** What an idle release needs from the sidecar's listeners: the counters the request path keeps anyway. */
export type ActivitySource = Pick<ProxyListener, 'inFlight' | 'served' | 'tunnels'>;

export interface IdleReleaseOptions {
  /** The listeners whose traffic counts (inbound and the app's ports). */
  readonly listeners: () => readonly ActivitySource[];
  /**
   * How long nothing may have been served, no request be in flight and no open tunnel have moved
   * a byte, before memory is given back.
   */
  readonly idleMs: number;
  readonly release: () => MemoryReleased;
  /**
   * A lighter step sooner: after `trimAfterMs` of the same quiet, malloc's free pages alone go
   * back (no collection), once per quiet period. Off when absent or not shorter than `idleMs`.
   */
  readonly trim?: () => MemoryTrimmed | undefined;
  readonly trimAfterMs?: number;
  readonly logger: Logger;
}

/** Counts for /metrics. */
export interface IdleReleaseState {
  readonly releases: number;
  /** Sum over releases of how much VmRSS fell (bytes; a release that found nothing adds 0). */
  readonly rssReleasedBytes: number;
  /** Sum of the main-thread time the releases took (collection and trim), seconds. */
  readonly releaseSeconds: number;
  readonly last: MemoryReleased | undefined;
  /** The quick trims after bursts, and how much VmRSS they gave back (bytes, summed). */
  readonly trims: number;
  readonly rssTrimmedBytes: number;
  readonly trimSeconds: number;
}

/**
 * Gives memory back once a sidecar has gone idle, in two steps. A few seconds into a quiet spell
 * (`trimAfterMs`) malloc's free pages go back alone, which takes a millisecond or so; after
 * `idleMs` the full release follows. The full release: it served requests (or started up, which is a
 * burst of its own), then served none, had none in flight and carried no byte through an open
 * tunnel for `idleMs` (a TCP connection kept open does not hold it off while it carries nothing;
 * an upgraded connection, such as a WebSocket, still counts as a request). Once per idle period:
 * the next release waits for traffic to come and go again. Envoy's overload manager does the
 * same under pressure (`shrink_heap`, tcmalloc's release); a sidecar's bursts are what grow its
 * heap and arenas, and V8 and glibc keep most of that after the burst.
 *
 * One timer per sidecar, a tick a second at most (unref'd); the request path gives nothing more
 * than the served and in-flight counts its listeners keep already (app-quiet.ts reads the same).
 * The release itself is synchronous and runs from the tick only when no request is in flight, so
 * it never pauses one; bytes arriving on a quiet tunnel during it wait for it (tens of ms, once).
 */
export class IdleMemoryRelease {
  readonly #options: IdleReleaseOptions;
  readonly #tickMs: number;
  #timer: NodeJS.Timeout | undefined;
  #seen = -1;
  #quietSince = 0;
  /** Traffic (or the start-up) happened since the last release. */
  #armed = true;
  /** The same, since the last trim. */
  #trimArmed = true;
  #trims = 0;
  #rssTrimmedBytes = 0;
  #trimSeconds = 0;
  #releases = 0;
  #rssReleasedBytes = 0;
  #releaseSeconds = 0;
  #last: MemoryReleased | undefined;

  constructor(options: IdleReleaseOptions) {
    this.#options = options;
    const first = options.trim && options.trimAfterMs !== undefined ? Math.min(options.idleMs, options.trimAfterMs) : options.idleMs;
    this.#tickMs = Math.max(50, Math.min(1_000, Math.floor(first / 4)));
  }

  start(): void {
    if (this.#timer || !(this.#options.idleMs > 0)) return;
    this.#quietSince = Date.now();
    this.#timer = setInterval(() => this.#tick(), this.#tickMs).unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  state(): IdleReleaseState {
    return { releases: this.#releases, rssReleasedBytes: this.#rssReleasedBytes, releaseSeconds: this.#releaseSeconds, last: this.#last, trims: this.#trims, rssTrimmedBytes: this.#rssTrimmedBytes, trimSeconds: this.#trimSeconds };
  }

  #tick(): void {
    const listeners = this.#options.listeners();
    // What moves while anything is carried: requests accepted, and bytes through open tunnels. A
    // tunnel that carries nothing (a pooled database connection at night) does not hold the
    // release off; were its bytes to arrive during one, they would wait for it, as a request does.
    let moved = 0;
    let busy = false;
    for (const l of listeners) {
      moved += l.served();
      const tunnels = l.tunnels?.();
      if (tunnels) moved += tunnels.bytes;
      if (l.inFlight() - (tunnels?.open ?? 0) > 0) busy = true;
    }
    const now = Date.now();
    if (moved !== this.#seen || busy) {
      if (moved !== this.#seen && this.#seen >= 0) this.#armed = this.#trimArmed = true;
      this.#seen = moved;
      this.#quietSince = now;
      return;
    }
    const quietMs = now - this.#quietSince;
    const { trim, trimAfterMs } = this.#options;
    if (trim && trimAfterMs !== undefined && trimAfterMs < this.#options.idleMs && this.#trimArmed && quietMs >= trimAfterMs) {
      this.#trimArmed = false;
      const t = trim();
      if (t) {
        this.#trims += 1;
        this.#rssTrimmedBytes += Math.max(0, t.rssBefore - t.rssAfter);
        this.#trimSeconds += t.trimMs / 1000;
      }
      return;
    }
    if (!this.#armed || quietMs < this.#options.idleMs) return;
    this.#trimArmed = false;
    this.#armed = false;
    const r = this.#options.release();
    this.#releases += 1;
    this.#rssReleasedBytes += Math.max(0, r.rssBefore - r.rssAfter);
    this.#releaseSeconds += (r.collectMs + r.trimMs) / 1000;
    this.#last = r;
    const mb = (b: number): number => Math.round(b / 104857.6) / 10;
    this.#options.logger.debug('idle: memory given back', {
      collection: r.collection, trimmed: r.trimmed, collectMs: Math.round(r.collectMs * 10) / 10, trimMs: Math.round(r.trimMs * 10) / 10,
      rssMb: [mb(r.rssBefore), mb(r.rssCollected), mb(r.rssAfter)], anonMb: [mb(r.anonBefore), mb(r.anonAfter)], heapTotalMb: [mb(r.heapBefore), mb(r.heapAfter)],
    });
  }
}
