/** The backoff part of a retry policy. */
export interface BackoffPolicy {
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
}

/**
 * Exponential backoff with full jitter (the AWS architecture blog's "full jitter"): before retry
 * `n` (1 for the first retry) the ceiling is `base * 2^(n-1)`, capped at `max`, and the delay is
 * uniform in [0, ceiling). Jitter spreads the retries of many callers that failed together.
 */
export function backoffDelay(retry: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.backoffMaxMs, policy.backoffBaseMs * 2 ** Math.max(0, retry - 1));
  return Math.floor(random() * ceiling);
}
