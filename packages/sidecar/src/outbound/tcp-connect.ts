import type { Duplex } from 'node:stream';
import type { CompiledService } from '../config/types';
import { NoEndpointsError } from '../layers/errors';
import type { Tunnels } from './endpoint/tunnels';

/** Endpoints tried for one connection before it is given up (each within its connect timeout). */
const MAX_CONNECT_TRIES = 3;

/** Opens mTLS tunnels (ALPN `weft-tcp`) to a service's endpoints: for --tcp-forward ports and captured TCP. */
export type TunnelOpener = (service: CompiledService, client: Duplex) => Promise<Duplex>;

/**
 * Picks a ready endpoint of the service (round robin; another one if it cannot connect), opens
 * mTLS to its inbound with ALPN `weft-tcp` and the service's SPIFFE ID pinned. Stops connecting
 * when the client leaves.
 */
export function tunnelOpener(tunnels: Tunnels): TunnelOpener {
  const turns = new WeakMap<CompiledService, { next: number }>();
  return async (service, client) => {
    const ready = service.allEndpoints.filter((e) => e.ready);
    if (ready.length === 0) throw NoEndpointsError.noneReady(service.key, undefined);
    let turn = turns.get(service);
    if (!turn) turns.set(service, (turn = { next: 0 }));
    const gone = new AbortController();
    const onGone = (): void => gone.abort(new Error('the client closed the connection'));
    client.once('close', onGone);
    let failure: unknown;
    try {
      for (let i = 0; i < Math.min(MAX_CONNECT_TRIES, ready.length); i++) {
        const endpoint = ready[turn.next++ % ready.length] as { readonly address: string };
        try {
          return await tunnels.connect(endpoint.address, service, 'weft-tcp', gone.signal);
        } catch (err) {
          failure = err;
          if (gone.signal.aborted) break;
        }
      }
    } finally {
      client.off('close', onGone);
    }
    throw failure;
  };
}
