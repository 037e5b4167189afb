import { Pool } from 'undici';
import type { Destination } from '../../config/types';
import type { IdentityMaterial } from '../../control/identity-material';
import { NotReadyError } from '../../layers/errors';
import type { Watch } from '../../watch';
import { tlsConnectOptions } from './tls-originate';

/** Idle keep-alive connections are closed after this, before a peer's 5 s server timeout can race us. */
const KEEP_ALIVE_TIMEOUT_MS = 4000;

/**
 * One pooled keep-alive mTLS connection set (an undici Pool) per endpoint and expected identity,
 * built with the certificate in force when it was created. When the identity Watch delivers a
 * renewed certificate, the pools in use are retired: they finish what is in flight and close,
 * while new requests get new pools that handshake with the new certificate.
 */
export class EndpointPools {
  readonly #identity: Watch<IdentityMaterial>;
  #material: IdentityMaterial | undefined;
  #pools = new Map<string, Pool>();
  readonly #retiring = new Set<Pool>();
  readonly #unsubscribe: () => void;
  #closed = false;

  constructor(identity: Watch<IdentityMaterial>) {
    this.#identity = identity;
    this.#material = identity.current;
    this.#unsubscribe = identity.subscribe((material) => {
      if (material === this.#material) return;
      this.#material = material;
      this.#retire([...this.#pools.values()]);
      this.#pools = new Map();
    });
  }

  /** The pool for an endpoint of a destination; throws NotReadyError before the first certificate. */
  get(endpoint: string, destination: Destination): Pool {
    const material = this.#material ?? this.#identity.current;
    if (!material || this.#closed) throw new NotReadyError('certificate');
    const key = `${endpoint}|${destination.spiffeId}`;
    let pool = this.#pools.get(key);
    if (!pool) {
      pool = new Pool(`https://${endpoint}`, {
        connect: tlsConnectOptions(material, destination, endpoint),
        keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
      });
      this.#pools.set(key, pool);
    }
    return pool;
  }

  /** Closes (gracefully) the pools of endpoints that are in no destination any more. */
  retain(liveEndpoints: ReadonlySet<string>): void {
    for (const [key, pool] of this.#pools) {
      if (liveEndpoints.has(key.slice(0, key.lastIndexOf('|')))) continue;
      this.#pools.delete(key);
      this.#retire([pool]);
    }
  }

  /** Number of pools in use (for tests and /config). */
  get size(): number {
    return this.#pools.size;
  }

  /** Graceful close: in-flight requests finish. With `force`, everything is destroyed now. */
  async close(force: boolean): Promise<void> {
    this.#closed = true;
    this.#unsubscribe();
    const all = [...this.#pools.values(), ...this.#retiring];
    this.#pools = new Map();
    await Promise.all(all.map((p) => (force ? p.destroy() : p.close()).catch(() => undefined)));
  }

  #retire(pools: readonly Pool[]): void {
    for (const pool of pools) {
      this.#retiring.add(pool);
      void pool
        .close()
        .catch(() => undefined)
        .finally(() => this.#retiring.delete(pool));
    }
  }
}
