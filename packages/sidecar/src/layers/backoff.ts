import { fullJitterDelay } from '@weft/api';

/** The backoff part of a retry policy. */
export interface BackoffPolicy {
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
}

/**
 * The wait before request retry `n` (1 for the first retry): full jitter under a ceiling of
 * `base * 2^(n-1)`, capped at `max`. The formula is `@weft/api`'s `fullJitterDelay`, which the
 * control plane reconnects use too; this only maps a route's retry policy onto it.
 */
export function backoffDelay(retry: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  return fullJitterDelay(retry - 1, policy.backoffBaseMs, policy.backoffMaxMs, random);
}
