import type { Logger } from '@weft/api';

/** One refused call: who asked (never with a secret), what it asked, and the stable code why not. */
export interface Refusal {
  /** `Identity.Sign`, `Discovery.Stream`, `Admin.Apply`. */
  readonly rpc: string;
  /** The stable WEFT_ERR_* code the caller got. */
  readonly reason: string;
  /** The caller's IP address (without the port). */
  readonly source: string;
  /** `address:port` of the connection. */
  readonly peer: string;
  /** The SPIFFE ID of the caller's certificate, when it presented one that chained to the mesh CA. */
  readonly identity?: string;
  /** The join token's id (the public half; the secret is never passed here). */
  readonly tokenId?: string;
  /** The message the caller got (written for it, so it holds no secret). */
  readonly detail: string;
}

export interface RefusalLogLimits {
  /** Lines per (rpc, reason, source) per interval; further refusals are only counted. */
  readonly linesPerInterval: number;
  readonly intervalMs: number;
  /** Distinct (rpc, reason, source) keys tracked; past this, new sources share one key per (rpc, reason). */
  readonly maxKeys: number;
}

export const REFUSAL_LOG_DEFAULTS: RefusalLogLimits = Object.freeze({ linesPerInterval: 5, intervalMs: 60_000, maxKeys: 1_000 });

interface Window {
  readonly rpc: string;
  readonly reason: string;
  readonly source: string;
  startedMs: number;
  logged: number;
  suppressed: number;
}

/**
 * Logs refusals, but not a flood of them: per (rpc, reason, source) at most `linesPerInterval`
 * lines per interval, then one summary line, "suppressed K similar refusals", when the interval
 * ends (or at close). The state is bounded: when `maxKeys` sources are tracked, refusals from
 * further sources share one `*` key per (rpc, reason), so many addresses cannot grow it or the log.
 */
export class RefusalLog {
  readonly #log: Logger;
  readonly #limits: RefusalLogLimits;
  readonly #now: () => number;
  readonly #windows = new Map<string, Window>();
  readonly #sweep: NodeJS.Timeout;

  constructor(log: Logger, limits: Partial<RefusalLogLimits> = {}, now: () => number = Date.now) {
    this.#log = log;
    this.#limits = { ...REFUSAL_LOG_DEFAULTS, ...limits };
    this.#now = now;
    this.#sweep = setInterval(() => this.flush(false), this.#limits.intervalMs);
    this.#sweep.unref();
  }

  record(refusal: Refusal): void {
    const now = this.#now();
    const window = this.#window(refusal, now);
    if (window.logged < this.#limits.linesPerInterval) {
      window.logged++;
      const { identity, tokenId, ...rest } = refusal;
      this.#log.warn('refused', { ...rest, ...(identity ? { identity } : {}), ...(tokenId ? { tokenId } : {}) });
    } else {
      window.suppressed++;
    }
  }

  /** Writes the summaries of intervals that ended (all of them when `all`) and forgets those windows. */
  flush(all = true): void {
    const now = this.#now();
    for (const [key, w] of this.#windows) {
      if (!all && now - w.startedMs < this.#limits.intervalMs) continue;
      this.#summarize(w);
      this.#windows.delete(key);
    }
  }

  close(): void {
    clearInterval(this.#sweep);
    this.flush(true);
  }

  #window(refusal: Refusal, now: number): Window {
    let key = `${refusal.rpc}|${refusal.reason}|${refusal.source}`;
    let source = refusal.source;
    let window = this.#windows.get(key);
    if (window && now - window.startedMs >= this.#limits.intervalMs) {
      this.#summarize(window);
      this.#windows.delete(key);
      window = undefined;
    }
    if (!window && this.#windows.size >= this.#limits.maxKeys) {
      source = '*';
      key = `${refusal.rpc}|${refusal.reason}|*`;
      window = this.#windows.get(key);
    }
    if (!window) {
      window = { rpc: refusal.rpc, reason: refusal.reason, source, startedMs: now, logged: 0, suppressed: 0 };
      this.#windows.set(key, window);
    }
    return window;
  }

  #summarize(w: Window): void {
    if (w.suppressed === 0) return;
    this.#log.warn(`suppressed ${w.suppressed} similar refusals`, { rpc: w.rpc, reason: w.reason, source: w.source, suppressed: w.suppressed, intervalMs: this.#limits.intervalMs });
  }
}
