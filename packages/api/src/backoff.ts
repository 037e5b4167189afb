export interface BackoffOptions {
  /** The ceiling of the first wait. */
  readonly baseMs: number;
  /** No wait is ever longer than this. */
  readonly capMs: number;
}

/**
 * Capped exponential backoff with full jitter (a uniform wait in [0, min(cap, base * 2^n))), so
 * that a fleet of clients cut off together does not come back in lock-step. Shared by the
 * sidecar (reconnecting to the control plane) and the control plane (Consul's blocking queries).
 */
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
    const ceiling = Math.min(this.#options.capMs, this.#options.baseMs * 2 ** Math.min(this.#attempt, 30));
    this.#attempt += 1;
    return Math.floor(this.#random() * ceiling);
  }

  reset(): void {
    this.#attempt = 0;
  }

  get attempts(): number {
    return this.#attempt;
  }
}
