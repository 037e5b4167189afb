import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import type { RetryOn } from '@weft/api';
import type { TelemetryEvents } from '../telemetry/events';
import type { Phase } from '../telemetry/record';
import type { TraceSpan } from '../telemetry/trace';
import { backoffDelay, type BackoffPolicy } from './backoff';
import { AttemptTimeoutError, asProxyError } from './errors';
import { discardBody, type ProxyResponse, type Service } from './service';
import { ReplayableBody } from './replay-buffer';
import type { RetryBudgets } from './retry-budget';
import { isRetryableMethod, neverSent, responseRetryReason, retryReason, type Outcome } from './retry-classify';
import { RETRY_DEFAULTS } from './retry-defaults';
import { sleep } from './sleep';
import { withDeadline } from './timeout';
import type { CancelSignal } from './cancel';

export { retryReason } from './retry-classify';

/** The retry policy as compiled (see config/types CompiledRetryPolicy). */
export interface RetryPolicy extends BackoffPolicy {
  readonly maxTries: number;
  readonly perTryTimeoutMs: number | undefined;
  readonly retryOn: ReadonlySet<RetryOn>;
  readonly retryNonIdempotent: boolean;
  readonly attemptsHeader: boolean;
  /** The mesh's default retry (retry-defaults DEFAULT_RETRY_POLICY), not a Route's. */
  readonly byDefault: boolean;
}

/** What the retry layer reads from its target (a compiled rule). */
export interface RetryParams {
  readonly retry: RetryPolicy | undefined;
  readonly retryBudget: { readonly percent: number; readonly minRetriesPerSecond: number };
  readonly name: string;
  readonly destination: { readonly key: string };
}

/** What outlives a config version: the budgets (per destination), and where retries are announced. */
export interface RetryEnv {
  readonly events: Pick<TelemetryEvents, 'emit'>;
  readonly budgets: RetryBudgets;
  readonly now?: () => number;
}

export interface RetryRequest {
  readonly method: string;
  readonly headers: Readonly<Record<string, string | string[]>>;
  readonly body: Readable | Buffer | null;
  readonly bodyLength: number | undefined;
  readonly signal: CancelSignal;
  readonly record: { attempts: number; phase: Phase; attemptsHeader: boolean };
  /** The request's CLIENT span, when there is one: each retry is an event on it. */
  readonly span?: Pick<TraceSpan, 'addEvent'>;
}

/** One attempt, as the layers below retry see it. Balance reads `avoid` and fills in `endpoint`. */
export interface AttemptState {
  readonly number: number;
  /** The endpoint whose attempt just failed: pick another one if there is one. */
  readonly avoid: string | undefined;
  endpoint: string | undefined;
}

export type Attempted<R> = R & { readonly attempt: AttemptState };

/**
 * The retry loop. It sits above load balancing, so every attempt picks an endpoint again (and
 * avoids the one that just failed). A body is kept for replay only up to the replay cap; a larger
 * body streams and the request is tried once. Between attempts it backs off with full jitter;
 * each attempt may have its own deadline (perTryTimeout) inside the route's overall one, which
 * bounds the whole loop, backoff included. A retry is made only when the outcome is in
 * `retryOn`, the method is idempotent (or a gRPC call, or the route opts in, or the request was
 * never sent), and the destination's retry budget has room. Retries are announced as
 * `weft:retry` (and as a `weft.retry` event on the CLIENT span), retries that were wanted but not
 * made as `weft:retry-skipped`.
 *
 * The mesh's default policy (a rule whose Route says nothing) runs the same loop; what a request
 * pays for it when nothing fails: one budget deposit, one AttemptState and the request copy that
 * every path makes, and one `then` on the first attempt; no async frame, no outcome object, no
 * timer, and no replay buffer for a request without a body or with a whole one (a Buffer). Only
 * a streamed body gets the buffer.
 */
export function retry<R extends RetryRequest>(params: RetryParams, env: RetryEnv, next: Service<Attempted<R>>, random: () => number = Math.random): Service<R> {
  const policy = params.retry;
  const budget = env.budgets.for(params.destination.key);
  const now = env.now ?? (() => performance.now());
  if (!policy) {
    return (req) => {
      budget.deposit(now());
      req.record.attempts = 1;
      return next({ ...req, attempt: { number: 1, avoid: undefined, endpoint: undefined } });
    };
  }
  const once = (req: R, body: Readable | Buffer | null, attempt: AttemptState): Promise<ProxyResponse> => {
    const perTry = policy.perTryTimeoutMs;
    if (perTry === undefined) return next({ ...req, body, attempt });
    return withDeadline(
      perTry,
      req.signal,
      (signal) => next({ ...req, body, signal, attempt }),
      () => new AttemptTimeoutError(params.destination.key, attempt.number, perTry, req.record.phase),
    );
  };
  /** Whether a retryable outcome may really be retried; says why not when it may not. */
  const allowed = (req: R, outcome: Outcome): boolean => {
    if (!policy.retryNonIdempotent && !isRetryableMethod(req.method, req.headers['content-type']) && !neverSent(outcome)) {
      env.events.emit('weft:retry-skipped', { destination: params.destination.key, route: params.name, reason: 'non-idempotent' });
      return false;
    }
    if (!budget.withdraw(params.retryBudget, now())) {
      env.events.emit('weft:retry-skipped', { destination: params.destination.key, route: params.name, reason: 'budget' });
      return false;
    }
    return true;
  };

  /**
   * Attempts after the first, until one may not be retried. `outcome` is the first attempt's,
   * which its caller found retryable; `body` is the replay buffer (undefined: the request's own
   * body is its replay).
   */
  const retryAfter = async (req: R, body: ReplayableBody | undefined, first: AttemptState, firstOutcome: Outcome): Promise<ProxyResponse> => {
    let outcome = firstOutcome;
    let attempt = first;
    for (let n = 1; ; n++) {
      const reason = n < policy.maxTries && !req.signal.aborted && (body?.replayable ?? true) ? retryReason(outcome, policy.retryOn) : undefined;
      // Opened before the budget is asked, so a body that cannot be replayed spends no budget.
      const nextBody = reason === undefined ? undefined : body ? body.open() : req.body;
      if (reason === undefined || nextBody === undefined || !allowed(req, outcome)) {
        if ('error' in outcome) throw outcome.error;
        return outcome.response;
      }
      // The failed response is dropped; destroying it closes its connection instead of reading on.
      if ('response' in outcome) discardBody(outcome.response.body);
      const avoid = attempt.endpoint;
      env.events.emit('weft:retry', { destination: params.destination.key, route: params.name, attempt: n + 1, reason, byDefault: policy.byDefault });
      req.span?.addEvent('weft.retry', { 'weft.attempt': n + 1, 'weft.retry.reason': reason, 'weft.retry.default': policy.byDefault, 'weft.endpoint': avoid ?? '' });
      if (policy.backoffMaxMs > 0) {
        req.record.phase = 'retry backoff';
        await sleep(backoffDelay(n, policy, random), req.signal);
      }
      req.record.attempts = n + 1;
      attempt = { number: n + 1, avoid, endpoint: undefined };
      outcome = await once(req, nextBody ?? null, attempt).then(asResponse, asError);
    }
  };

  return (req) => {
    budget.deposit(now());
    req.record.attemptsHeader = policy.attemptsHeader;
    // A body that is absent or already whole is its own replay; only a stream needs the buffer.
    const source = req.body;
    const body = source === null || Buffer.isBuffer(source) ? undefined : new ReplayableBody(source, req.bodyLength, RETRY_DEFAULTS.replayBufferBytes);
    req.record.attempts = 1;
    const attempt: AttemptState = { number: 1, avoid: undefined, endpoint: undefined };
    // The first attempt in plain callbacks: nearly every request ends with it, on a response
    // nothing asks to retry, and then pays for no async frame, await or outcome object.
    return once(req, (body ? body.open() : source) ?? null, attempt).then(
      (response) => {
        if (policy.maxTries < 2 || responseRetryReason(response, policy.retryOn) === undefined) return response;
        return retryAfter(req, body, attempt, { response });
      },
      (err: unknown) => retryAfter(req, body, attempt, asError(err)),
    );
  };
}

const asResponse = (response: ProxyResponse): Outcome => ({ response });
const asError = (err: unknown): Outcome => ({ error: asProxyError(err) });
