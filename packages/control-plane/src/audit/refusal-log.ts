import { LOG_THROTTLE_DEFAULTS, LogThrottle, type LogThrottleLimits, type Logger } from '@weft/api';

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

export type RefusalLogLimits = LogThrottleLimits;

export const REFUSAL_LOG_DEFAULTS: RefusalLogLimits = LOG_THROTTLE_DEFAULTS;

/**
 * Logs refusals, but not a flood of them (LogThrottle): per (rpc, reason, source) at most
 * `linesPerInterval` lines per interval, then one summary line, "suppressed K similar refusals",
 * when the interval ends (or at close). Once `maxKeys` sources are tracked, refusals from further
 * sources share one `*` key per (rpc, reason), so many addresses cannot grow the state or the log.
 */
export class RefusalLog {
  readonly #log: Logger;
  readonly #throttle: LogThrottle;

  constructor(log: Logger, limits: Partial<RefusalLogLimits> = {}, now: () => number = Date.now) {
    this.#log = log;
    this.#throttle = new LogThrottle(log, 'refusals', limits, now);
  }

  record(refusal: Refusal): void {
    const { rpc, reason, source } = refusal;
    this.#throttle.record(
      `${rpc}|${reason}|${source}`,
      { rpc, reason, source },
      () => {
        const { identity, tokenId, ...rest } = refusal;
        this.#log.warn('refused', { ...rest, ...(identity ? { identity } : {}), ...(tokenId ? { tokenId } : {}) });
      },
      { key: `${rpc}|${reason}|*`, summary: { rpc, reason, source: '*' } },
    );
  }

  /** Writes the summaries of intervals that ended (all of them when `all`) and forgets those windows. */
  flush(all = true): void {
    this.#throttle.flush(all);
  }

  close(): void {
    this.#throttle.close();
  }
}
