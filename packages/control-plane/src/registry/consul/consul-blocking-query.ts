import { setTimeout as sleep } from 'node:timers/promises';
import { Backoff, type BackoffOptions } from '@weft/api';
import { ConsulError, type IndexedResult } from './consul-client';

/** One blocking read: resolves with the data and X-Consul-Index, or rejects (ConsulError). */
export type BlockingRead<T> = (index: number, waitMs: number, signal: AbortSignal) => Promise<IndexedResult<T>>;

export interface BlockingQueryOptions<T> {
  readonly read: BlockingRead<T>;
  /** Each answer whose index moved (and the first): the data is current as of `index`. */
  readonly onValue: (value: T, index: number) => void;
  /** Each failed read, with how long the loop waits before the next. */
  readonly onError: (err: unknown, retryInMs: number) => void;
  readonly timing?: Partial<BlockingQueryTiming>;
}

export interface BlockingQueryTiming {
  /** How long Consul may hold a read (`?wait=`). */
  readonly waitMs: number;
  /** The least time between the starts of two reads: a read that returns at once waits for the rest. */
  readonly minIntervalMs: number;
  /** After a failure: capped exponential backoff with full jitter (never less than minIntervalMs). */
  readonly backoff: BackoffOptions;
}

/** The defaults, in one block. */
export const BLOCKING_QUERY_TIMING: BlockingQueryTiming = Object.freeze({
  waitMs: 60_000,
  minIntervalMs: 1_000,
  backoff: Object.freeze({ baseMs: 1_000, capMs: 30_000 }),
});

/**
 * A loop of blocking reads following Consul's rules for clients
 * (developer.hashicorp.com/consul/api-docs/features/blocking, "Implementation details"):
 * - the index of each answer is the next read's `index`;
 * - an index lower than the one sent (a restored snapshot, another server) resets it to 0, so the
 *   next read answers at once with fresh data instead of blocking on an index never reached;
 * - an index of 0 (or none) is an error: it would make every later read return at once;
 * - reads start at least `minIntervalMs` apart, since a read may return early without a change;
 * - failures back off with jitter, and the read after one is a fresh one (index 0); the last good
 *   value stays with the caller meanwhile.
 */
export class BlockingQuery<T> {
  readonly #options: BlockingQueryOptions<T>;
  readonly #timing: BlockingQueryTiming;
  readonly #abort = new AbortController();
  #index = 0;
  #delivered = false;
  #running: Promise<void> | undefined;

  constructor(options: BlockingQueryOptions<T>) {
    this.#options = options;
    this.#timing = { ...BLOCKING_QUERY_TIMING, ...options.timing };
  }

  /** The index the next read sends (0: a fresh, non-blocking read). */
  get index(): number {
    return this.#index;
  }

  start(): void {
    this.#running ??= this.#loop();
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#running;
  }

  async #loop(): Promise<void> {
    const signal = this.#abort.signal;
    const backoff = new Backoff(this.#timing.backoff);
    let lastStart = -Infinity;
    while (!signal.aborted) {
      const sinceMs = Date.now() - lastStart;
      if (sinceMs < this.#timing.minIntervalMs && !(await pause(this.#timing.minIntervalMs - sinceMs, signal))) return;
      lastStart = Date.now();
      let waitMs = 0;
      try {
        const sent = this.#index;
        const result = await this.#options.read(sent, this.#timing.waitMs, signal);
        if (signal.aborted) return;
        if (!Number.isSafeInteger(result.index) || result.index <= 0) {
          this.#index = 0;
          throw new ConsulError(`Consul answered with X-Consul-Index ${Number.isNaN(result.index) ? '(none)' : result.index}; an index must be at least 1 (a Consul bug): retrying with backoff`);
        }
        backoff.reset();
        // Backwards: the data is current, but the next read must not block on an index that may never come.
        this.#index = result.index < sent ? 0 : result.index;
        if (!this.#delivered || result.index !== sent) {
          this.#delivered = true;
          this.#options.onValue(result.value, result.index);
        }
      } catch (err) {
        if (signal.aborted) return;
        // The next read is a fresh one: after an outage, a read at the old index would block for the
        // whole wait before confirming that Consul is back.
        this.#index = 0;
        waitMs = Math.max(this.#timing.minIntervalMs, backoff.next());
        this.#options.onError(err, waitMs);
      }
      if (waitMs > 0 && !(await pause(waitMs, signal))) return;
    }
  }
}

/** False when aborted during the pause. */
async function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  try {
    await sleep(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}
