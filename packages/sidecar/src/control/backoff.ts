import { setTimeout as delay } from 'node:timers/promises';
import { Backoff, type BackoffOptions, type Logger } from '@weft/api';
import { ControlError, errorInfo } from './errors';

export { Backoff, type BackoffOptions } from '@weft/api';

/** Reconnecting to the control plane: quick first retries, never more than 5 s apart. */
export const RECONNECT_BACKOFF: BackoffOptions = Object.freeze({ baseMs: 250, capMs: 5_000 });

export interface RetryWithBackoffOptions {
  readonly what: string;
  readonly logger: Logger;
  readonly backoff: BackoffOptions;
  /** Which failures are worth retrying; anything else is thrown at once. */
  readonly retryable: (err: unknown) => boolean;
  readonly signal?: AbortSignal;
}

/**
 * Runs `fn` until it succeeds or fails with a non-retryable error, logging each failure and waiting
 * a full-jitter backoff (`Backoff`) between tries. Used at boot, where an unreachable control plane
 * is something to wait out rather than a reason to exit. (Requests are retried by `layers/retry.ts`.)
 */
export async function retryWithBackoff<T>(fn: () => Promise<T>, options: RetryWithBackoffOptions): Promise<T> {
  const backoff = new Backoff(options.backoff);
  for (;;) {
    throwIfAborted(options.signal);
    try {
      return await fn();
    } catch (err) {
      throwIfAborted(options.signal);
      if (!options.retryable(err)) throw err;
      const waitMs = backoff.next();
      const info = errorInfo(err);
      options.logger.warn(`${options.what} failed; retrying`, { error: info.message, code: info.code, attempt: backoff.attempts, retryInMs: waitMs });
      try {
        await delay(waitMs, undefined, options.signal ? { signal: options.signal } : {});
      } catch {
        throwIfAborted(options.signal);
      }
    }
  }
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new ControlError('WEFT_ERR_ABORTED', 'start-up was cancelled');
}
