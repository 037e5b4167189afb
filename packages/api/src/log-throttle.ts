import type { Logger } from './log';

export interface LogThrottleLimits {
  /** Lines per key per interval; further events are only counted. */
  readonly linesPerInterval: number;
  readonly intervalMs: number;
  /** Distinct keys tracked; past this, new keys share one overflow key. */
  readonly maxKeys: number;
}

export const LOG_THROTTLE_DEFAULTS: LogThrottleLimits = Object.freeze({ linesPerInterval: 5, intervalMs: 60_000, maxKeys: 1_000 });

/** Fields of a summary line: what the events it counts have in common. */
export type ThrottleFields = Readonly<Record<string, unknown>>;

/** Where events of new keys go once `maxKeys` keys are tracked. */
export interface ThrottleOverflow {
  readonly key: string;
  readonly summary: ThrottleFields;
}

const OVERFLOW: ThrottleOverflow = Object.freeze({ key: '*', summary: Object.freeze({}) });

interface Window {
  /** What the summary line says about the events it counts. */
  readonly fields: ThrottleFields;
  readonly key: string;
  startedMs: number;
  logged: number;
  suppressed: number;
}

/**
 * Logs repeated events, but not a flood of them: per key at most `linesPerInterval` lines per
 * interval, then one summary line (`suppressed K similar ...`) when the interval ends, or at close.
 * The state is bounded: once `maxKeys` keys are tracked, further keys share an overflow key, so
 * a stream of distinct sources cannot grow it or the log. An app retrying a refused call in a tight
 * loop, or a scanner knocking on a port, costs one counter increment per event after the first few.
 */
export class LogThrottle {
  readonly #log: Logger;
  readonly #what: string;
  readonly #limits: LogThrottleLimits;
  readonly #now: () => number;
  readonly #windows = new Map<string, Window>();
  readonly #sweep: NodeJS.Timeout;

  /** `what` names the events in the summary line: `suppressed 12 similar ${what}`. */
  constructor(log: Logger, what: string, limits: Partial<LogThrottleLimits> = {}, now: () => number = Date.now) {
    this.#log = log;
    this.#what = what;
    this.#limits = { ...LOG_THROTTLE_DEFAULTS, ...limits };
    this.#now = now;
    this.#sweep = setInterval(() => this.flush(false), this.#limits.intervalMs);
    this.#sweep.unref();
  }

  /**
   * One event under `key`: `write` runs (and should log it) unless this key used its lines for the
   * interval. `summary` is what the summary line repeats of the events (the key's parts);
   * `overflow`, the key and summary to count it under once `maxKeys` keys are tracked.
   */
  record(key: string, summary: ThrottleFields, write: () => void, overflow: ThrottleOverflow = OVERFLOW): void {
    const window = this.#window(key, summary, overflow);
    if (window.logged < this.#limits.linesPerInterval) {
      window.logged++;
      write();
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

  #window(key: string, summary: ThrottleFields, overflow: ThrottleOverflow): Window {
    const now = this.#now();
    let window = this.#windows.get(key);
    if (window && now - window.startedMs >= this.#limits.intervalMs) {
      this.#summarize(window);
      this.#windows.delete(key);
      window = undefined;
    }
    let fields = summary;
    if (!window && this.#windows.size >= this.#limits.maxKeys) {
      key = overflow.key;
      fields = overflow.summary;
      window = this.#windows.get(key);
    }
    if (!window) {
      window = { key, fields, startedMs: now, logged: 0, suppressed: 0 };
      this.#windows.set(key, window);
    }
    return window;
  }

  #summarize(w: Window): void {
    if (w.suppressed === 0) return;
    this.#log.warn(`suppressed ${w.suppressed} similar ${this.#what}`, { ...w.fields, suppressed: w.suppressed, intervalMs: this.#limits.intervalMs });
  }
}
