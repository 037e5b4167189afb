import { performance } from 'node:perf_hooks';
import type { CompiledRateLimit } from '../config/types';
import { ProxyError } from '../layers/errors';
import type { Service } from '../layers/service';
import type { TelemetryEvents } from '../telemetry/events';
import type { SpanAttributes } from '../telemetry/trace';

/** Local rate limit defaults, filled in by the compiler. */
export const RATE_LIMIT_DEFAULTS = Object.freeze({
  /**
   * Without `burst`, the bucket holds one second's worth of requests (at least one), so a limit of
   * 100/s admits 100 at once after a quiet second, as Envoy's local rate limit does with
   * max_tokens = tokens_per_fill.
   */
  minBurst: 1,
});

/** Over the local rate limit: 429, with `retry-after` saying when a request would be let in. */
export class RateLimitedError extends ProxyError {
  readonly httpStatus = 429;
  readonly retryAfterSeconds: number;
  constructor(destination: string, limit: CompiledRateLimit, retryAfterSeconds: number) {
    super(
      'WEFT_ERR_RATE_LIMITED',
      `"${destination}" takes at most ${limit.requestsPerSecond} requests per second per instance (burst ${limit.burst}), ` +
        `set by ServicePolicy "${limit.policy}" spec.rateLimit: retry after ${retryAfterSeconds}s, send fewer requests, or raise the limit`,
    );
    this.retryAfterSeconds = retryAfterSeconds;
  }

  override get responseHeaders(): Readonly<Record<string, string>> {
    return { 'retry-after': String(this.retryAfterSeconds) };
  }
}

/**
 * A token bucket: `burst` tokens, refilled at `requestsPerSecond`; a request takes one. Refills
 * are computed from the time elapsed when a request arrives, so there is no timer. The limits
 * are passed on every call, so the bucket (and what it has used) survives config updates while a
 * changed limit applies at once.
 */
export class TokenBucket {
  #tokens: number | undefined;
  #updatedAt = 0;

  /** Takes a token: 0 when there was one, else the ms until the next one is due. */
  take(limit: { readonly requestsPerSecond: number; readonly burst: number }, nowMs: number): number {
    const previous = this.#tokens ?? limit.burst;
    const tokens = Math.min(limit.burst, previous + ((nowMs - this.#updatedAt) / 1000) * limit.requestsPerSecond);
    this.#updatedAt = nowMs;
    if (tokens >= 1) {
      this.#tokens = tokens - 1;
      return 0;
    }
    this.#tokens = tokens;
    return ((1 - tokens) / limit.requestsPerSecond) * 1000;
  }
}

export interface RateLimitRequest {
  /** The config this request runs on (undefined before the first one arrives). */
  readonly config: { readonly localRateLimit: CompiledRateLimit | undefined } | undefined;
  readonly record: { readonly source: string };
  /** The SERVER span: a recorded one says the request was rate limited (`weft.rate_limited`). */
  readonly span?: { readonly recording: boolean; setAttributes(attributes: SpanAttributes): void } | undefined;
}

/**
 * The local rate limit of this instance (ServicePolicy `rateLimit` of the sidecar's own service,
 * as Envoy's local rate limit filter): one token bucket for the instance, whoever calls. Over it,
 * a 429 with `retry-after` in whole seconds (rounded up, as the header requires), announced as
 * `weft:rate-limited`. It runs after authorization, so a denied caller cannot use up the bucket.
 */
export function rateLimit<R extends RateLimitRequest>(
  deps: { readonly destination: string; readonly events: Pick<TelemetryEvents, 'emit'>; readonly now?: () => number },
  next: Service<R>,
): Service<R> {
  const bucket = new TokenBucket();
  const now = deps.now ?? (() => performance.now());
  return (req) => {
    const limit = req.config?.localRateLimit;
    if (!limit) return next(req);
    const waitMs = bucket.take(limit, now());
    if (waitMs === 0) return next(req);
    deps.events.emit('weft:rate-limited', { destination: deps.destination, source: req.record.source });
    if (req.span?.recording) req.span.setAttributes({ 'weft.rate_limited': true });
    return Promise.reject(new RateLimitedError(deps.destination, limit, Math.max(1, Math.ceil(waitMs / 1000))));
  };
}
