import { pickerFactory } from '../../balance/registry';
import type { BalancerName, CompiledEndpoint } from '../../config/types';
import { NoEndpointsError } from '../../layers/errors';
import type { Service } from '../../layers/http';
import type { AttemptState } from '../../layers/retry';

export interface BalanceParams {
  readonly destination: { readonly key: string };
  readonly subset: string | undefined;
  readonly endpoints: readonly CompiledEndpoint[];
  readonly balancer: BalancerName;
}

export interface BalanceRequest {
  readonly attempt: AttemptState;
  readonly record: { endpoint: string };
}

export type Picked<R> = R & { readonly endpoint: CompiledEndpoint };

/**
 * Picks the endpoint target for one attempt. The picker is built once per backend (per config
 * version) by the balancer the ServicePolicy names; a retry avoids the endpoint that just failed.
 */
export function balance<R extends BalanceRequest>(params: BalanceParams, next: Service<Picked<R>>): Service<R> {
  const picker = pickerFactory(params.balancer)(params.endpoints);
  return (req) => {
    const result = picker.pick(req.attempt.avoid);
    if (result.kind !== 'endpoint') {
      // `queue` comes with pool limits; until then nothing can wait for an endpoint to appear.
      return Promise.reject(NoEndpointsError.noneReady(params.destination.key, params.subset));
    }
    const address = result.endpoint.address;
    req.attempt.endpoint = address;
    req.record.endpoint = address;
    return next({ ...req, endpoint: result.endpoint });
  };
}
