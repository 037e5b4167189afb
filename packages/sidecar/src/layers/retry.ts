import type { Readable } from 'node:stream';
import type { RetryOn } from '@weft/api';
import type { TelemetryEvents } from '../telemetry/events';
import type { Phase } from '../telemetry/record';
import { backoffDelay, type BackoffPolicy } from './backoff';
import { AttemptTimeoutError, ClientClosedError, asProxyError, type ProxyError } from './errors';
import type { ProxyResponse, Service } from './http';
import { bufferForReplay } from './replay-buffer';
import { RETRY_DEFAULTS } from './retry-defaults';
import { sleep } from './sleep';
import { withDeadline } from './timeout';

/** The retry policy as compiled (see config/types CompiledRetryPolicy). */
export interface RetryPolicy extends BackoffPolicy {
  readonly maxTries: number;
  readonly perTryTimeoutMs: number | undefined;
  readonly retryOn: ReadonlySet<RetryOn>;
}

/** What the retry layer reads from its target (a compiled rule). */
export interface RetryParams {
  readonly retry: RetryPolicy | undefined;
  readonly name: string;
  readonly destination: { readonly key: string };
}

export interface RetryRequest {
  readonly body: Readable | Buffer | null;
  readonly bodyLength: number | undefined;
  readonly signal: AbortSignal;
  readonly record: { attempts: number; phase: Phase };
}

/** One attempt, as the layers below retry see it. Balance reads `avoid` and fills in `endpoint`. */
export interface AttemptState {
  readonly number: number;
  /** The endpoint whose attempt just failed: pick another one if there is one. */
  readonly avoid: string | undefined;
  endpoint: string | undefined;
}

export type Attempted<R> = R & { readonly attempt: AttemptState };

type Outcome = { readonly response: ProxyResponse } | { readonly error: ProxyError };

/** Upstream failures that may be retried; anything else (no endpoints, overall timeout) is final. */
const CONNECT_FAILURES = new Set(['WEFT_ERR_CONNECT', 'WEFT_ERR_PEER_IDENTITY']);
const RESETS = new Set(['WEFT_ERR_UPSTREAM_RESET']);
const ATTEMPT_TIMEOUTS = new Set(['WEFT_ERR_ATTEMPT_TIMEOUT']);

/**
 * The retry loop. It sits above load balancing, so every attempt picks an endpoint again (and
 * avoids the one that just failed). A body is kept for replay only up to the replay cap; a larger
 * body streams and the request is tried once. Between attempts it backs off with full jitter;
 * each attempt may have its own deadline (perTryTimeout). Retries are announced as `weft:retry`.
 */
export function retry<R extends RetryRequest>(
  params: RetryParams,
  events: Pick<TelemetryEvents, 'emit'>,
  next: Service<Attempted<R>>,
  random: () => number = Math.random,
): Service<R> {
  const policy = params.retry;
  if (!policy) {
    return (req) => {
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

  return async (req) => {
    const replay = await bufferForReplay(req.body, req.bodyLength, RETRY_DEFAULTS.replayBufferBytes).catch(() => {
      // Reading a request body fails only when the client goes away mid-upload.
      throw new ClientClosedError();
    });
    const maxTries = replay.replayable ? policy.maxTries : 1;
    let avoid: string | undefined;
    for (let n = 1; ; n++) {
      if (n > 1) {
        req.record.phase = 'retry backoff';
        await sleep(backoffDelay(n - 1, policy, random), req.signal);
      }
      req.record.attempts = n;
      const attempt: AttemptState = { number: n, avoid, endpoint: undefined };
      const outcome: Outcome = await once(req, replay.body, attempt).then(
        (response) => ({ response }),
        (err: unknown) => ({ error: asProxyError(err) }),
      );
      const reason = n < maxTries && !req.signal.aborted ? retryReason(outcome, policy.retryOn) : undefined;
      if (reason === undefined) {
        if ('error' in outcome) throw outcome.error;
        return outcome.response;
      }
      // The failed response is dropped; destroying it closes its connection instead of reading on.
      if ('response' in outcome) outcome.response.body?.destroy();
      avoid = attempt.endpoint;
      events.emit('weft:retry', { destination: params.destination.key, route: params.name, attempt: n + 1, reason });
    }
  };
}

/**
 * Why an outcome may be retried under `retryOn`, or undefined. An upstream failure counts as the
 * status the app would get for it (connect failure 503, reset 502, attempt timeout 504), so that
 * `5xx` and `gateway-error` cover them as in Envoy; `connect-failure` and `reset` name them alone.
 */
export function retryReason(outcome: Outcome, retryOn: ReadonlySet<RetryOn>): string | undefined {
  if ('response' in outcome) return statusReason(outcome.response.status, retryOn);
  const code = outcome.error.code;
  if (CONNECT_FAILURES.has(code) && retryOn.has('connect-failure')) return 'connect-failure';
  if (RESETS.has(code) && retryOn.has('reset')) return 'reset';
  if (CONNECT_FAILURES.has(code) || RESETS.has(code) || ATTEMPT_TIMEOUTS.has(code)) return statusReason(outcome.error.httpStatus, retryOn);
  return undefined;
}

function statusReason(status: number, retryOn: ReadonlySet<RetryOn>): string | undefined {
  if (status === 502 || status === 503 || status === 504) {
    if (retryOn.has('gateway-error') || retryOn.has('5xx')) return `status ${status}`;
  } else if (status >= 500 && status <= 599 && retryOn.has('5xx')) return `status ${status}`;
  return undefined;
}
