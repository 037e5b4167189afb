import type { CompiledRetryBudget } from '../config/types';
import { RETRY_DEFAULTS } from './retry-defaults';

const SLOTS = 10;

/**
 * Linkerd's retry budget for one destination: retries may add at most `percent` of the requests
 * of the last ~10 s (RETRY_DEFAULTS.budgetWindowMs), plus `minRetriesPerSecond` so that a quiet
 * service can still retry. Without it, a struggling destination receives every request
 * `attempts + 1` times just when it can least afford it (a retry storm).
 *
 * The window is a ring of one-second slots; totals are kept as slots roll over, so a check is a
 * few additions. The minimum is a token bucket that refills at `minRetriesPerSecond` and holds
 * one second's worth, so that it adds a rate, not a burst. Settings are passed on every call:
 * the counters survive config updates while a changed percent applies at once.
 */
export class RetryBudget {
  readonly #slotMs = RETRY_DEFAULTS.budgetWindowMs / SLOTS;
  readonly #requests = new Array<number>(SLOTS).fill(0);
  readonly #retries = new Array<number>(SLOTS).fill(0);
  #requestTotal = 0;
  #retryTotal = 0;
  #slot = -1;
  #minTokens: number | undefined;
  #minRefilledAt = 0;

  /** An original request was made (each deposit earns `percent`/100 of a retry). */
  deposit(nowMs: number): void {
    const i = this.#advance(nowMs);
    this.#requests[i] = (this.#requests[i] ?? 0) + 1;
    this.#requestTotal += 1;
  }

  /** Takes one retry from the budget; false when it is spent (the retry must not be made). */
  withdraw(budget: CompiledRetryBudget, nowMs: number): boolean {
    const i = this.#advance(nowMs);
    if (this.#retryTotal + 1 <= (budget.percent / 100) * this.#requestTotal) {
      this.#retries[i] = (this.#retries[i] ?? 0) + 1;
      this.#retryTotal += 1;
      return true;
    }
    return this.#takeMinimum(budget.minRetriesPerSecond, nowMs);
  }

  #takeMinimum(perSecond: number, nowMs: number): boolean {
    if (perSecond <= 0) return false;
    const capacity = Math.max(1, perSecond);
    const tokens = this.#minTokens === undefined ? capacity : Math.min(capacity, this.#minTokens + ((nowMs - this.#minRefilledAt) / 1000) * perSecond);
    this.#minRefilledAt = nowMs;
    if (tokens < 1) {
      this.#minTokens = tokens;
      return false;
    }
    this.#minTokens = tokens - 1;
    return true;
  }

  /** Moves the window to `nowMs`, clearing the slots that fell out of it; returns the current slot. */
  #advance(nowMs: number): number {
    const slot = Math.floor(nowMs / this.#slotMs);
    if (this.#slot < 0) this.#slot = slot;
    for (let s = this.#slot + 1; s <= slot && s <= this.#slot + SLOTS; s++) {
      const i = s % SLOTS;
      this.#requestTotal -= this.#requests[i] ?? 0;
      this.#retryTotal -= this.#retries[i] ?? 0;
      this.#requests[i] = 0;
      this.#retries[i] = 0;
    }
    if (slot > this.#slot) this.#slot = slot;
    return this.#slot % SLOTS;
  }
}

/** One budget per destination key, for the life of the outbound listener. */
export class RetryBudgets {
  readonly #budgets = new Map<string, RetryBudget>();

  for(destination: string): RetryBudget {
    let budget = this.#budgets.get(destination);
    if (!budget) {
      budget = new RetryBudget();
      this.#budgets.set(destination, budget);
    }
    return budget;
  }
}
