import type { Destination } from '../../config/types';
import type { IdentityMaterial } from '../../control/identity-material';
import type { Watch } from '../../watch';
import { ConnectionCache, type EndpointConnection } from './connection-cache';
import { DEFAULT_CONNECT_TIMEOUT_MS } from './h2-sessions';
import { peerConnector } from './peer-connector';
import { H1Pool } from '../../http1/pool';
import type { HttpDispatcher } from '../../http/dispatch-response';

/**
 * Idle keep-alive connections are closed after this: before the peer sidecar's 65 s server
 * timeout (LISTENER_LIMITS) can race us into writing on a connection it is closing, and long
 * enough that bursts reuse connections instead of paying a TLS handshake each. The pool also
 * honours the peer's `Keep-Alive: timeout` hint. A ServicePolicy `idleTimeout` can only shorten it.
 */
const KEEP_ALIVE_TIMEOUT_MS = 60_000;

class PooledEndpoint implements EndpointConnection {
  constructor(readonly pool: H1Pool) {}

  close(force: boolean): Promise<void> {
    return force ? this.pool.destroy() : this.pool.close();
  }
}

function openPool(material: IdentityMaterial, endpoint: string, destination: Destination): PooledEndpoint {
  return new PooledEndpoint(
    new H1Pool({
      connect: peerConnector(material, destination, endpoint, destination.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS),
      authority: endpoint,
      keepAliveMs: Math.min(destination.idleTimeoutMs ?? KEEP_ALIVE_TIMEOUT_MS, KEEP_ALIVE_TIMEOUT_MS),
      maxConnections: destination.maxConnections,
    }),
  );
}

/**
 * HTTP/1.1 to peer sidecars: one pooled keep-alive mTLS connection set (a H1Pool, Weft's own
 * HTTP/1.1 client) per endpoint and expected identity, retired when the certificate renews (see
 * ConnectionCache).
 */
export class EndpointPools {
  readonly #cache: ConnectionCache<PooledEndpoint>;

  constructor(identity: Watch<IdentityMaterial>) {
    this.#cache = new ConnectionCache(identity, openPool);
  }

  /** The pool for an endpoint of a destination; throws NotReadyError before the first certificate. */
  get(endpoint: string, destination: Destination): HttpDispatcher {
    return this.#cache.get(endpoint, destination).pool;
  }

  retain(liveEndpoints: ReadonlySet<string>): void {
    this.#cache.retain(liveEndpoints);
  }

  get size(): number {
    return this.#cache.size;
  }

  close(force: boolean): Promise<void> {
    return this.#cache.close(force);
  }
}
