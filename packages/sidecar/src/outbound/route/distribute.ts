import type { CompiledBackend, WeightedBackends } from '../../config/types';
import type { Service } from '../../layers/service';

export interface DistributeParams {
  readonly split: WeightedBackends;
}

/**
 * The weighted split between backends (subsets): one random number against precomputed
 * cumulative weights. Backend stacks are resolved when the route stack is built, not per request.
 */
export function distribute<R>(params: DistributeParams, backendStack: (backend: CompiledBackend) => Service<R>, random: () => number = Math.random): Service<R> {
  const { backends, cumulative, total } = params.split;
  const stacks = backends.map(backendStack);
  const only = stacks[0];
  if (stacks.length === 1 && only) return only;
  return (req) => {
    const r = random() * total;
    let i = 0;
    while (i < cumulative.length - 1 && r >= (cumulative[i] ?? 0)) i++;
    return (stacks[i] as Service<R>)(req);
  };
}
