import { randomUUID } from 'node:crypto';
import type { Logger, WireServiceEndpoints } from '@weft/api';
import type { Etcd3, IKeyValue, Lease, Watcher } from 'etcd3';

/** How long a dead replica's endpoints outlive it: its lease's TTL. */
export const ENDPOINT_LEASE_TTL_S = 10;

/** Where a replica stands in the rotation phase the leader wrote. */
export interface RotationStanding {
  readonly phase: string;
  readonly phaseSinceMs: number;
  /** What its own proxies still lack for the phase ('' when they are ready). */
  readonly waitingFor: string;
}

/** One replica's key: its published endpoints and its rotation standing. */
interface ReplicaDoc {
  readonly endpoints: readonly WireServiceEndpoints[];
  readonly rotation?: RotationStanding;
}

/**
 * What each replica tells the others: the endpoints announced to it, and how its proxies stand in
 * a root rotation (the leader advances a phase only when every live replica's proxies are ready). Each sidecar announces its instance to the replica it
 * is connected to; each replica writes what it has published (verified endpoints only) under
 * `<prefix>/endpoints/<replica id>`, attached to a lease of its own, and reads everyone else's
 * through a watch. Snapshots carry the union, so a caller connected to replica B reaches an
 * instance announced to replica A. When a replica dies its key goes with its lease, by then its
 * sidecars have announced themselves to another replica (they fail over within seconds).
 * Eventually consistent: a remote change arrives with the watch, a dead replica's endpoints leave
 * after the lease TTL.
 */
export class ReplicaShare {
  readonly replicaId = randomUUID();
  readonly #client: Etcd3;
  readonly #prefix: string;
  readonly #log: Logger;
  readonly #remote = new Map<string, ReplicaDoc>();
  readonly #listeners = new Set<() => void>();
  #lease: Lease | undefined;
  #watcher: Watcher | undefined;
  #pending: ReplicaDoc | undefined;
  /** What was last handed to `publish`: written again when the lease was lost with our key. */
  #last: ReplicaDoc = { endpoints: [] };
  #written = '';
  #writing = false;
  #closed = false;

  private constructor(client: Etcd3, prefix: string, log: Logger) {
    this.#client = client;
    this.#prefix = prefix;
    this.#log = log;
  }

  static async open(client: Etcd3, prefix: string, log: Logger): Promise<ReplicaShare> {
    const share = new ReplicaShare(client, prefix, log);
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
    for (const doc of this.#remote.values()) {
      for (const s of doc.endpoints) {
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
    this.#write({ ...this.#last, endpoints: local });
  }

  /** Writes where this replica's proxies stand in the current rotation phase (only when it changed). */
  reportRotation(standing: RotationStanding): void {
    this.#write({ ...this.#last, rotation: standing });
  }

  /**
   * What the other live replicas' proxies still lack for this phase: '' when every replica took
   * the phase and reports its proxies ready. A replica that died leaves with its lease.
   */
  peersWaitingFor(phase: string, phaseSinceMs: number): string {
    for (const [replica, doc] of this.#remote) {
      const r = doc.rotation;
      if (!r || r.phase !== phase || r.phaseSinceMs !== phaseSinceMs) return `replica ${replica} to take phase ${phase}`;
      if (r.waitingFor) return `replica ${replica}: ${r.waitingFor}`;
    }
    return '';
  }

  #write(doc: ReplicaDoc): void {
    this.#last = doc;
    this.#pending = doc;
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
        const doc = this.#pending;
        this.#pending = undefined;
        const text = JSON.stringify(doc);
        if (text === this.#written && this.#lease) continue;
        try {
          await this.#leaseNow().put(`${this.#prefix}${this.replicaId}`).value(text);
          this.#written = text;
        } catch (err) {
          // etcd out of reach: the others keep our last write until the lease runs out. Retried
          // with the next change, or in a second.
          this.#log.warn('cannot share this replica\'s endpoints and standing through etcd', { error: err instanceof Error ? err.message : String(err) });
          this.#pending ??= doc;
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
      this.#written = '';
      this.#write(this.#last);
    });
    this.#lease = lease;
    return lease;
  }

  /** Takes another replica's key; returns whether its endpoints changed. */
  #take(kv: IKeyValue): boolean {
    const replica = this.#replicaOf(kv);
    if (replica === this.replicaId) return false;
    try {
      const doc = JSON.parse(kv.value.toString('utf8')) as ReplicaDoc;
      const before = this.#remote.get(replica);
      this.#remote.set(replica, doc);
      // Listeners rebuild snapshots: a change of rotation standing alone is not theirs.
      return JSON.stringify(before?.endpoints) !== JSON.stringify(doc.endpoints);
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
