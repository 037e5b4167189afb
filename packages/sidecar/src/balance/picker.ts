import type { CompiledEndpoint } from '../config/types';

/**
 * What a balancer publishes: an immutable picker whose synchronous `pick()` answers with a tagged
 * result (the grpc-js shape). `queue` is for balancers that wait for capacity (pool limits come
 * with connection-pool enforcement); the round-robin and random pickers never queue.
 */
export type PickResult =
  | { readonly kind: 'endpoint'; readonly endpoint: CompiledEndpoint }
  | { readonly kind: 'queue' }
  | { readonly kind: 'fail'; readonly reason: 'no-endpoints' };

export interface Picker {
  /**
   * Picks an endpoint for one attempt. `avoid` is the address of the endpoint whose attempt just
   * failed: a picker returns another one when it has any.
   */
  pick(avoid?: string): PickResult;
}

/** Builds a picker for one backend's endpoint list (ready endpoints only). */
export type PickerFactory = (endpoints: readonly CompiledEndpoint[]) => Picker;

export const NO_ENDPOINTS: PickResult = Object.freeze({ kind: 'fail', reason: 'no-endpoints' });
