import { randomUUID } from 'node:crypto';
import type { Logger, WireServiceEndpoints } from '@weft/api';
import type { Etcd3, IKeyValue, Lease, Watcher } from 'etcd3';

/** How long a dead replica's endpoints outlive it: its lease's TTL. */
export const ENDPOINT_LEASE_TTL_S = 10;

/**
 * Endpoints announced to the other replicas. Each sidecar announces its instance to the replica it
 * is connected to; each replica writes what it has published (verified endpoints only) under
 * `<prefix>/endpoints/<replica id>`, attached to a lease of its own, and reads everyone else's
 * through a watch. Snapshots carry the union, so a caller connected to replica B reaches an
 * instance announced to replica A. When a replica dies its key goes with its lease, by then its
 * sidecars have announced themselves to another replica (they fail over within seconds).
 * Eventually consistent: a remote change arrives with the watch, a dead replica's endpoints leave
 * after the lease TTL.
 */
export class EndpointShare {
  readonly replicaId = randomUUID();
  readonly #client: Etcd3;
  readonly #prefix: string;
  readonly #log: Logger;
  readonly #remote = new Map<string, readonly WireServiceEndpoints[]>();
  readonly #listeners = new Set<() => void>();
  #lease: Lease | undefined;
  #watcher: Watcher | undefined;
  #pending: readonly WireServiceEndpoints[] | undefined;
  /** What was last handed to `publish`: written again when the lease was lost with our key. */
  #last: readonly WireServiceEndpoints[] = [];
  #writing = false;
  #closed = false;

  private constructor(client: Etcd3, prefix: string, log: Logger) {
    this.#client = client;
    this.#prefix = prefix;
    this.#log = log;
  }

  static async open(client: Etcd3, prefix: string, log: Logger): Promise<EndpointShare> {
    const share = new EndpointShare(client, prefix, log);
    const res = await client.getAll().prefix(prefix).exec();
    for (const kv of res.kvs) share.#take(kv);
    share.#watcher = await client.watch().prefix(prefix).startRevision(String(Number(res.header.revision) + 1)).create();
    share.#watcher.on('put', (kv) => share.#take(kv) && share.#notify());
    share.#watcher.on('delete', (kv) => share.#remote.delete(share.#replicaOf(kv)) && share.#notify());
    return share;
  }

  /** The local replica's published endpoints with every other replica's added (local wins per proxy). */
  merge(local: readonly WireServiceEndpoints[]): WireServiceEndpoints[] {
    const byService = new Map(local.map((s) => [`${s.namespace}/${s.service}`, { ...s, endpoints: [...s.endpoints] }]));
    const known = new Set(local.flatMap((s) => s.endpoints.map((e) => e.proxyId)));
    for (const services of this.#remote.values()) {
      for (const s of services) {
        const key = `${s.namespace}/${s.service}`;
        const entry = byService.get(key) ?? { ...s, endpoints: [] };
        for (const e of s.endpoints) {
          if (known.has(e.proxyId)) continue;
          known.add(e.proxyId);
          entry.endpoints.push(e);
        }
        byService.set(key, entry);
      }
    }
    return [...byService.keys()].sort().map((key) => {
      const entry = byService.get(key) as WireServiceEndpoints;
      return { ...entry, endpoints: [...entry.endpoints].sort((a, b) => a.proxyId.localeCompare(b.proxyId)) };
    });
  }

  /** Writes this replica's endpoints (the latest wins when writes pile up). */
  publish(local: readonly WireServiceEndpoints[]): void {
    this.#pending = local;
    this.#last = local;
    if (!this.#writing) void this.#drain();
  }

  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Stops watching and keeping the lease alive, without revoking it: this replica's sidecars are
   * alive and moving to another replica, so callers elsewhere keep their endpoints until the
   * lease runs out, by when they have been announced again.
   */
  async close(): Promise<void> {
    this.#closed = true;
    this.#listeners.clear();
    await this.#watcher?.cancel().catch(() => undefined);
    this.#lease?.release();
  }

  async #drain(): Promise<void> {
    this.#writing = true;
    try {
      while (this.#pending && !this.#closed) {
        const services = this.#pending;
        this.#pending = undefined;
        try {
          await this.#leaseNow().put(`${this.#prefix}${this.replicaId}`).value(JSON.stringify(services));
        } catch (err) {
          // etcd out of reach: the others keep our last write until the lease runs out. Retried
          // with the next change, or in a second.
          this.#log.warn('cannot share endpoints through etcd', { error: err instanceof Error ? err.message : String(err) });
          this.#pending ??= services;
          this.#lease = undefined;
          await new Promise((resolve) => setTimeout(resolve, 1_000).unref());
        }
      }
    } finally {
      this.#writing = false;
    }
  }

  #leaseNow(): Lease {
    if (this.#lease) return this.#lease;
    const lease = this.#client.lease(ENDPOINT_LEASE_TTL_S);
    lease.on('lost', () => {
      if (this.#lease !== lease || this.#closed) return;
      this.#lease = undefined;
      this.#log.warn('endpoint lease lost: sharing the endpoints again under a new one');
      this.publish(this.#last);
    });
    this.#lease = lease;
    return lease;
  }

  /** Takes another replica's endpoints; returns whether they changed. */
  #take(kv: IKeyValue): boolean {
    const replica = this.#replicaOf(kv);
    if (replica === this.replicaId) return false;
    try {
      this.#remote.set(replica, JSON.parse(kv.value.toString('utf8')) as WireServiceEndpoints[]);
      return true;
    } catch {
      return false;
    }
  }

  #replicaOf(kv: IKeyValue): string {
    return kv.key.toString('utf8').slice(this.#prefix.length);
  }

  #notify(): void {
    for (const listener of this.#listeners) listener();
  }
}
