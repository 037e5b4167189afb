import { selectRule, type MatchInput } from '../../config/route-match';
import type { CompiledRule, CompiledService } from '../../config/types';
import { NoRouteError } from '../../layers/errors';
import type { Service } from '../../layers/service';

export interface MatchRequest extends MatchInput {
  readonly service: CompiledService;
  readonly record: { route: string };
}

/**
 * Picks the route target: the first rule of the destination whose matchers hold (matchers were
 * compiled with the config; this only runs them), then hands the request to that rule's stack.
 */
export function routeMatch<R extends MatchRequest>(routeStack: (rule: CompiledRule) => Service<R>): Service<R> {
  return (req) => {
    const rule = selectRule(req.service.rules, req);
    if (!rule) return Promise.reject(new NoRouteError(req.service.key, req.service.routes, req.method, req.path));
    req.record.route = rule.name;
    return routeStack(rule)(req);
  };
}
