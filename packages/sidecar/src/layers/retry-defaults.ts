import type { RetryOn } from '@weft/api';

/**
 * Every retry default in one block (as undici keeps its RetryHandler defaults): the compiler fills
 * a Route's and a ServicePolicy's gaps from here and the retry layer reads nothing else.
 */
export const RETRY_DEFAULTS = Object.freeze({
  /** What a `retries` block without `retryOn` retries: failures where the request surely did no harm. */
  retryOn: Object.freeze(['connect-failure', 'reset', 'gateway-error'] as const satisfies readonly RetryOn[]),
  /** First backoff ceiling; each later retry doubles it, up to `backoffMaxMs`. */
  backoffBaseMs: 25,
  backoffMaxMs: 250,
  /** Request bodies up to this size are kept for replay; a larger body is streamed and never retried. */
  replayBufferBytes: 64 * 1024,
  /** POST, PATCH and other non-idempotent methods are not retried unless a Route opts in. */
  retryNonIdempotent: false,
  /** Responses that took several tries carry `x-weft-attempts`. */
  attemptsHeader: true,
  /** Retry budget (ServicePolicy `retryBudget`, Linkerd's defaults): retries add at most 20% ... */
  budgetPercent: 20,
  /** ... of the requests of the last budgetWindowMs, plus this many per second. */
  budgetMinRetriesPerSecond: 10,
  budgetWindowMs: 10_000,
});
