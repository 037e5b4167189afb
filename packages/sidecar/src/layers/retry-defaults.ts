import { RETRY_BACKOFF_DEFAULTS, type RetryOn } from '@weft/api';
import type { CompiledRetryPolicy } from '../config/types';

/**
 * Every retry default in one block (as undici keeps its RetryHandler defaults): the compiler fills
 * a Route's and a ServicePolicy's gaps from here and the retry layer reads nothing else.
 */
export const RETRY_DEFAULTS = Object.freeze({
  /** What a `retries` block without `retryOn` retries: failures where the request surely did no harm. */
  retryOn: Object.freeze(['connect-failure', 'reset', 'gateway-error'] as const satisfies readonly RetryOn[]),
  /** First backoff ceiling; each later retry doubles it, up to `backoffMaxMs` (the schema checks a Route's against these). */
  backoffBaseMs: RETRY_BACKOFF_DEFAULTS.baseMs,
  backoffMaxMs: RETRY_BACKOFF_DEFAULTS.maxMs,
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

/**
 * The retry every rule gets when its Route says nothing about `retries` (and when there is no
 * Route at all), as Istio's default policy retries connect failures: an attempt that failed
 * before any byte reached the destination app (connect refused or timed out, TLS failure, a
 * connection closed before the request was written, a peer identity refusal, the peer sidecar
 * answering `x-weft-unprocessed` because its app refused the connection) is tried again on
 * another endpoint, twice at most, within the destination's retry budget, for every method:
 * nothing was processed, so nothing can happen twice. No backoff: the next attempt goes to
 * another endpoint, which passive health has just told the balancer to prefer. A Route's own
 * `retries` replaces it; `retries: {attempts: 0}` turns retries off.
 */
export const DEFAULT_RETRY_POLICY: CompiledRetryPolicy = Object.freeze({
  maxTries: 3,
  perTryTimeoutMs: undefined,
  retryOn: Object.freeze(new Set<RetryOn>(['connect-failure'])),
  backoffBaseMs: 0,
  backoffMaxMs: 0,
  retryNonIdempotent: false,
  attemptsHeader: RETRY_DEFAULTS.attemptsHeader,
  byDefault: true,
});
