/** What a probe answers while the condition does not hold yet. */
export type NotYet = undefined | false;

const FIRST_INTERVAL_MS = 10;

/**
 * Polls `probe` until it answers something other than `undefined` or `false`, and resolves with
 * that answer; after `timeoutMs` it rejects saying `what` it waited for (and the last error the
 * probe threw, if any: a probe that throws is asked again, as a server that is still starting
 * refuses a connection). Polls soon at first (10 ms), then less often, up to `maxIntervalMs`,
 * so unit tests stay quick and cross-process tests do not flood what they poll.
 */
export async function waitFor<T>(
  what: string,
  probe: () => T | NotYet | Promise<T | NotYet>,
  timeoutMs = 10_000,
  maxIntervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let intervalMs = Math.min(FIRST_INTERVAL_MS, maxIntervalMs);
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}${lastError ? `: ${(lastError as Error).message}` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
    intervalMs = Math.min(intervalMs * 2, maxIntervalMs);
  }
}
