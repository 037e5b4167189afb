import type { CompiledService } from '../config/types';
import { NoEndpointsError } from '../layers/errors';
import type { Service } from '../layers/service';

export interface DiscoverRequest {
  readonly authority: string;
  readonly config: { lookup(authority: string): CompiledService | undefined };
  readonly record: { destination: string; peerIdentity: string };
}

export type Discovered<R> = R & { readonly service: CompiledService };

/**
 * The logical target: which destination the app asked for. One lookup in the authority table of
 * the config this request runs on; a name the mesh does not know is a 503 that says how to check.
 */
export function discover<R extends DiscoverRequest>(next: Service<Discovered<R>>): Service<R> {
  return (req) => {
    const service = req.config.lookup(req.authority);
    if (!service) return Promise.reject(NoEndpointsError.unknownService(req.authority));
    req.record.destination = service.key;
    req.record.peerIdentity = service.spiffeId;
    return next({ ...req, service });
  };
}
