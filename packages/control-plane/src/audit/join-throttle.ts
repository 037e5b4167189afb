import { ControlPlaneError } from '../errors';
import { FailureThrottle, type ThrottleLimits } from './failure-throttle';

/** Defaults in one block: what a guesser gets, and what a mistyped token costs its operator. */
export const JOIN_THROTTLE_DEFAULTS = Object.freeze({
  /** A token id is locked after 5 wrong secrets within a minute... */
  perToken: { maxFailures: 5, windowMs: 60_000, lockoutMs: 60_000, maxKeys: 10_000 } satisfies ThrottleLimits,
  /** ...and a source address after 20 (many ids from one place, or one shared NAT). */
  perSource: { maxFailures: 20, windowMs: 60_000, lockoutMs: 60_000, maxKeys: 10_000 } satisfies ThrottleLimits,
});

export interface JoinThrottleLimits {
  readonly perToken: ThrottleLimits;
  readonly perSource: ThrottleLimits;
}

/**
 * Slows down guessing of join token secrets, the one secret a caller without a certificate can
 * try: wrong secrets are counted per token id and per source address, and a locked id or address
 * is refused (WEFT_ERR_TOO_MANY_FAILURES, RESOURCE_EXHAUSTED, with the time left) even when the
 * secret is right, until its lockout ends. Certificate-authenticated calls are not throttled:
 * the TLS handshake already proved the caller holds the key.
 */
export class JoinThrottle {
  readonly #byToken: FailureThrottle;
  readonly #bySource: FailureThrottle;

  constructor(limits: JoinThrottleLimits = JOIN_THROTTLE_DEFAULTS, now: () => number = Date.now) {
    this.#byToken = new FailureThrottle(limits.perToken, now);
    this.#bySource = new FailureThrottle(limits.perSource, now);
  }

  /** Throws when either the token id or the source is locked out. `tokenId` is '' for a malformed token. */
  check(tokenId: string, source: string): void {
    const tokenWait = tokenId ? this.#byToken.lockedForMs(tokenId) : 0;
    const sourceWait = this.#bySource.lockedForMs(source);
    if (tokenWait === 0 && sourceWait === 0) return;
    const bySource = sourceWait >= tokenWait;
    const limits = bySource ? this.#bySource.limits : this.#byToken.limits;
    const retryAfterMs = Math.max(tokenWait, sourceWait);
    const who = bySource ? `from ${source}` : `for join token ${tokenId}`;
    throw new ControlPlaneError(
      'WEFT_ERR_TOO_MANY_FAILURES',
      `too many wrong join token secrets ${who} (${limits.maxFailures} within ${limits.windowMs / 1000}s): Identity.Sign with a token is refused ${who} for ${Math.ceil(retryAfterMs / 1000)}s more. ` +
        'Check the token (`weftctl token list` shows its id), then retry after that',
      { retryAfterMs },
    );
  }

  failed(tokenId: string, source: string): void {
    if (tokenId) this.#byToken.fail(tokenId);
    this.#bySource.fail(source);
  }

  /** A right secret clears its token id's count (not its source's: one valid token must not launder guesses). */
  succeeded(tokenId: string): void {
    this.#byToken.clear(tokenId);
  }
}
