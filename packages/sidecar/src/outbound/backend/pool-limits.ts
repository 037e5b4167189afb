import type { CompiledPoolLimits } from '../../config/types';
import { ProxyError } from '../../layers/errors';
import type { CancelSignal } from '../../layers/cancel';

/** Connection pool defaults (Envoy's circuit-breaker default for pending requests). */
export const POOL_DEFAULTS = Object.freeze({
  /** Requests that may wait for a free endpoint when the ServicePolicy does not say. */
  maxPendingRequests: 1024,
});

/**
 * Every endpoint that may take the request is at `maxConnections` and `maxPendingRequests`
 * requests already wait: failing at once (a bulkhead, Envoy's circuit breaker) keeps a slow
 * destination from piling up unbounded queues and memory in every caller.
 */
export class OverflowError extends ProxyError {
  readonly httpStatus = 503;
  constructor(destination: string, subset: string | undefined, limits: CompiledPoolLimits) {
    const what = subset === undefined ? `service "${destination}"` : `subset "${subset}" of service "${destination}"`;
    const policy = limits.policy === undefined ? 'its ServicePolicy' : `ServicePolicy "${limits.policy}"`;
    super(
      'WEFT_ERR_OVERFLOW',
      `${what} is at its connection pool limit: every endpoint has connectionPool.maxConnections (${limits.maxConnections ?? 'unlimited'}) ` +
        `requests in flight and connectionPool.maxPendingRequests (${limits.maxPendingRequests}) more already wait: ` +
        `raise maxConnections or maxPendingRequests in ${policy}, add instances, or send fewer requests at once`,
    );
  }
}

interface Waiter {
  /** Tries to take an endpoint now (synchronously); true when it did and the waiter may go. */
  readonly tryTake: () => boolean;
  readonly resolve: () => void;
}

/**
 * The requests of one destination waiting for an endpoint with room (the picker said `queue`),
 * bounded by `maxPendingRequests`. When a request ends and frees room (`wake`), waiters try again
 * in arrival order and the first that gets an endpoint goes. One queue per destination, for the
 * life of the listener: requests that started on an older config still wait in the same line.
 */
export class PendingQueue {
  /** In arrival order; a Set so that a waiter that gives up leaves in O(1). */
  readonly #waiters = new Set<Waiter>();

  get length(): number {
    return this.#waiters.size;
  }

  /**
   * Waits until `tryTake` succeeds. Rejects at once with OverflowError when the queue is full, and
   * with the signal's reason (a timeout naming the `queue` phase, the client leaving) when it aborts.
   */
  wait(tryTake: () => boolean, signal: CancelSignal, overflow: { readonly maxPendingRequests: number; error(): ProxyError }): Promise<void> {
    if (signal.aborted) return Promise.reject(signal.reason as Error);
    if (this.#waiters.size >= overflow.maxPendingRequests) return Promise.reject(overflow.error());
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        tryTake,
        resolve: () => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = (): void => {
        this.#waiters.delete(waiter);
        reject(signal.reason as Error);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.#waiters.add(waiter);
    });
  }

  /** Room was freed: the first waiter that can take an endpoint now goes. */
  wake(): void {
    for (const waiter of this.#waiters) {
      if (!waiter.tryTake()) continue;
      this.#waiters.delete(waiter);
      waiter.resolve();
      return;
    }
  }
}

/** One PendingQueue per destination key. */
export class PendingQueues {
  readonly #queues = new Map<string, PendingQueue>();

  for(destination: string): PendingQueue {
    let queue = this.#queues.get(destination);
    if (!queue) {
      queue = new PendingQueue();
      this.#queues.set(destination, queue);
    }
    return queue;
  }
}
