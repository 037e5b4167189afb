import type { Destination } from '../../config/types';
import type { IdentityMaterial } from '../../control/identity-material';
import { NotReadyError } from '../../layers/errors';
import type { Watch } from '../../watch';

/** Connections to one peer endpoint (a pool, a multiplexed session) that can be closed as a whole. */
export interface EndpointConnection {
  /** Graceful: what is in flight finishes. With `force`, everything is destroyed now. Never rejects. */
  close(force: boolean): Promise<void>;
}

export type OpenConnection<C> = (material: IdentityMaterial, endpoint: string, destination: Destination) => C;

/**
 * Connections to peer sidecars, one per endpoint, expected identity and connection settings, each made with the
 * certificate in force when it opened. When the identity Watch delivers a new certificate or
 * trust bundle (a renewal, a root rotation), every connection in use is retired: it finishes
 * what is in flight and closes, while new requests open new connections that handshake with the
 * new material. Endpoints that leave the config are retired the same way (`retain`).
 */
export class ConnectionCache<C extends EndpointConnection> {
  readonly #identity: Watch<IdentityMaterial>;
  readonly #open: OpenConnection<C>;
  #material: IdentityMaterial | undefined;
  /** By connection settings (see settingsKey), then by endpoint address. */
  #connections = new Map<string, Map<string, C>>();
  readonly #retiring = new Set<C>();
  readonly #unsubscribe: () => void;
  #closed = false;

  constructor(identity: Watch<IdentityMaterial>, open: OpenConnection<C>) {
    this.#identity = identity;
    this.#open = open;
    this.#material = identity.current;
    this.#unsubscribe = identity.subscribe((material) => {
      if (material === this.#material) return;
      this.#material = material;
      this.#retire(this.#all());
      this.#connections = new Map();
    });
  }

  /** The connection for an endpoint of a destination; throws NotReadyError before the first certificate. */
  get(endpoint: string, destination: Destination): C {
    const material = this.#material ?? this.#identity.current;
    if (!material || this.#closed) throw new NotReadyError('certificate');
    // The settings are part of the key: a config that changes them gets fresh connections, and the
    // old ones drain like any retired connection.
    const settings = settingsKey(destination);
    let byEndpoint = this.#connections.get(settings);
    if (!byEndpoint) {
      byEndpoint = new Map();
      this.#connections.set(settings, byEndpoint);
    }
    let connection = byEndpoint.get(endpoint);
    if (!connection) {
      connection = this.#open(material, endpoint, destination);
      byEndpoint.set(endpoint, connection);
    }
    return connection;
  }

  /** Retires the connections of endpoints that are in no destination any more. */
  retain(liveEndpoints: ReadonlySet<string>): void {
    for (const byEndpoint of this.#connections.values()) {
      for (const [endpoint, connection] of byEndpoint) {
        if (liveEndpoints.has(endpoint)) continue;
        byEndpoint.delete(endpoint);
        this.#retire([connection]);
      }
    }
  }

  /** Number of connections in use (for tests and /config). */
  get size(): number {
    let size = 0;
    for (const byEndpoint of this.#connections.values()) size += byEndpoint.size;
    return size;
  }

  async close(force: boolean): Promise<void> {
    this.#closed = true;
    this.#unsubscribe();
    const all = [...this.#all(), ...this.#retiring];
    this.#connections = new Map();
    await Promise.all(all.map((c) => c.close(force)));
  }

  #all(): C[] {
    return [...this.#connections.values()].flatMap((byEndpoint) => [...byEndpoint.values()]);
  }

  #retire(connections: readonly C[]): void {
    for (const connection of connections) {
      this.#retiring.add(connection);
      void connection.close(false).finally(() => this.#retiring.delete(connection));
    }
  }
}

/**
 * The connection settings a destination asks for, as a key: computed once per Destination object
 * (one per destination and config version), so that a request builds no string to find its pool.
 */
const settingsKeys = new WeakMap<Destination, string>();

function settingsKey(d: Destination): string {
  let key = settingsKeys.get(d);
  if (key === undefined) {
    key = `${d.spiffeId}|${d.connectTimeoutMs}|${d.idleTimeoutMs}|${d.maxConnections}|${d.minTLSVersion}`;
    settingsKeys.set(d, key);
  }
  return key;
}
