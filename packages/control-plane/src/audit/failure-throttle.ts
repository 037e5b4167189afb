export interface ThrottleLimits {
  /** Failures within `windowMs` that lock a key out. */
  readonly maxFailures: number;
  readonly windowMs: number;
  /** How long a locked key is refused. */
  readonly lockoutMs: number;
  /** Keys tracked; the least recently failed is forgotten first. */
  readonly maxKeys: number;
}

interface Entry {
  /** When the current counting window began. */
  windowStartMs: number;
  failures: number;
  lockedUntilMs: number;
}

/**
 * A login throttle: `maxFailures` failures of one key (a token id, a source address) within
 * `windowMs` lock that key out for `lockoutMs`, during which even a right answer is refused, so
 * guessing cannot go faster than `maxFailures` per lockout. Successes are never slowed down.
 * Memory is bounded: at most `maxKeys` entries, least recently failed evicted first (a Map keeps
 * insertion order, and an entry is moved to the end on each failure).
 */
export class FailureThrottle {
  readonly #limits: ThrottleLimits;
  readonly #now: () => number;
  readonly #entries = new Map<string, Entry>();

  constructor(limits: ThrottleLimits, now: () => number = Date.now) {
    this.#limits = limits;
    this.#now = now;
  }

  get limits(): ThrottleLimits {
    return this.#limits;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** How many ms `key` stays locked out, or 0 when it is not. */
  lockedForMs(key: string): number {
    const entry = this.#entries.get(key);
    if (!entry) return 0;
    return Math.max(0, entry.lockedUntilMs - this.#now());
  }

  /** Counts a failure; returns true when this failure locked the key out. */
  fail(key: string): boolean {
    const now = this.#now();
    let entry = this.#entries.get(key);
    if (entry) this.#entries.delete(key);
    if (!entry || now - entry.windowStartMs >= this.#limits.windowMs) entry = { windowStartMs: now, failures: 0, lockedUntilMs: entry?.lockedUntilMs ?? 0 };
    entry.failures++;
    let locked = false;
    if (entry.failures >= this.#limits.maxFailures && entry.lockedUntilMs <= now) {
      entry.lockedUntilMs = now + this.#limits.lockoutMs;
      // A new window after the lockout: its failures count afresh.
      entry.windowStartMs = entry.lockedUntilMs;
      entry.failures = 0;
      locked = true;
    }
    this.#entries.set(key, entry);
    while (this.#entries.size > this.#limits.maxKeys) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
    return locked;
  }

  /** Forgets a key's failures (a token that was then used rightly). */
  clear(key: string): void {
    this.#entries.delete(key);
  }
}
