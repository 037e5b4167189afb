export interface BackoffOptions {
  /** The ceiling of the first wait. */
  readonly baseMs: number;
  /** No wait is ever longer than this. */
  readonly capMs: number;
}

/**
 * Capped exponential backoff with full jitter (the AWS architecture blog's "full jitter"): the wait
 * before attempt `n` (0 for the first wait) is uniform in [0, min(cap, base * 2^n)), so that a
 * fleet of clients cut off together does not come back in lock-step. The one formula for every
 * backoff in Weft: request retries (the sidecar's `layers/backoff.ts` maps a route's policy onto
 * it), reconnecting to the control plane and Consul's blocking queries (through `Backoff`).
 */
export function fullJitterDelay(n: number, baseMs: number, capMs: number, random: () => number = Math.random): number {
  // The exponent is capped so that a long outage cannot overflow the ceiling to Infinity. Plain
  // numbers rather than an options object: a request retry calls this and should not allocate.
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(Math.max(0, n), 30));
  return Math.floor(random() * ceiling);
}

/** `fullJitterDelay` with its attempt counter: one per reconnecting client. */
export class Backoff {
  readonly #options: BackoffOptions;
  readonly #random: () => number;
  #attempt = 0;

  constructor(options: BackoffOptions, random: () => number = Math.random) {
    this.#options = options;
    this.#random = random;
  }

  /** The wait before the next attempt; each call doubles the ceiling until it reaches the cap. */
  next(): number {
    const waitMs = fullJitterDelay(this.#attempt, this.#options.baseMs, this.#options.capMs, this.#random);
    this.#attempt += 1;
    return waitMs;
  }

  reset(): void {
    this.#attempt = 0;
  }

  get attempts(): number {
    return this.#attempt;
  }
}
