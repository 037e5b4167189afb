import type { Logger } from '@weft/api';
import type { Etcd3, Lease } from 'etcd3';

/** The leader's lease. A leader that misses keepalives for half of it stops acting. */
export const LEADER_LEASE_TTL_S = 6;
const CAMPAIGN_EVERY_MS = 1_000;

/**
 * Leader election for work that must happen once across replicas (root rotation steps). The
 * leader holds `<prefix>/leader`, created in a transaction only if absent and attached to its
 * lease. It stops acting on the first failed keepalive, or when no keepalive succeeded for half
 * the lease's TTL (the etcd3 client reports a lost lease only after the TTL), so it has stepped
 * down before the lease can expire and another replica take over. Writes made as leader are
 * guarded in their transaction by the leader key's create revision (`guard`): a deposed leader's
 * late write fails in etcd instead of overwriting its successor's.
 */
export class LeaderElection {
  readonly #client: Etcd3;
  readonly #key: string;
  readonly #id: string;
  readonly #log: Logger;
  readonly #listeners = new Set<(leader: boolean) => void>();
  #lease: Lease | undefined;
  #createRevision: string | undefined;
  #lastKeepaliveMs = 0;
  #timer: NodeJS.Timeout | undefined;
  #campaigning = false;
  #closed = false;

  constructor(client: Etcd3, key: string, replicaId: string, log: Logger) {
    this.#client = client;
    this.#key = key;
    this.#id = replicaId;
    this.#log = log;
  }

  get isLeader(): boolean {
    return this.#createRevision !== undefined;
  }

  /** What a leader's transaction compares: the leader key still has the revision it created. */
  guard(): { readonly key: string; readonly createRevision: string } | undefined {
    return this.#createRevision === undefined ? undefined : { key: this.#key, createRevision: this.#createRevision };
  }

  onChange(listener: (leader: boolean) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  start(): void {
    this.#timer = setInterval(() => this.#tick(), CAMPAIGN_EVERY_MS);
    this.#timer.unref();
    this.#tick();
  }

  /** Stops acting; gives the key up at once so that another replica need not wait for the lease. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    const was = this.#createRevision;
    this.#stepDown('closing');
    if (was !== undefined) await this.#client.if(this.#key, 'Create', '==', was).then(this.#client.delete().key(this.#key)).commit().catch(() => undefined);
    this.#lease?.release();
  }

  #tick(): void {
    if (this.#closed) return;
    if (this.isLeader && Date.now() - this.#lastKeepaliveMs > (LEADER_LEASE_TTL_S * 1000) / 2) {
      this.#stepDown('no keepalive succeeded for half the lease');
      return;
    }
    if (!this.isLeader && !this.#campaigning) void this.#campaign();
  }

  async #campaign(): Promise<void> {
    this.#campaigning = true;
    try {
      const lease = this.#leaseNow();
      const leaseId = await lease.grant();
      const res = await this.#client
        .if(this.#key, 'Create', '==', 0)
        .then(this.#client.put(this.#key).value(this.#id).lease(leaseId))
        .commit();
      if (!res.succeeded || this.#closed) return;
      this.#createRevision = res.header.revision;
      this.#lastKeepaliveMs = Date.now();
      this.#log.info('elected leader', { replica: this.#id });
      this.#notify(true);
    } catch (err) {
      this.#log.debug('leader campaign failed', { error: err instanceof Error ? err.message : String(err) });
    } finally {
      this.#campaigning = false;
    }
  }

  #leaseNow(): Lease {
    if (this.#lease && !this.#lease.revoked()) return this.#lease;
    const lease = this.#client.lease(LEADER_LEASE_TTL_S);
    lease.on('keepaliveSucceeded', () => {
      if (this.#lease === lease) this.#lastKeepaliveMs = Date.now();
    });
    // Either one means the lease may be gone before we hear more: stop acting now.
    lease.on('keepaliveFailed', () => this.#dropLease(lease, 'a lease keepalive failed'));
    lease.on('lost', () => this.#dropLease(lease, 'the lease was lost'));
    this.#lease = lease;
    return lease;
  }

  #dropLease(lease: Lease, reason: string): void {
    if (this.#lease !== lease) return;
    this.#lease = undefined;
    lease.release();
    this.#stepDown(reason);
  }

  #stepDown(reason: string): void {
    if (this.#createRevision === undefined) return;
    this.#createRevision = undefined;
    this.#log.warn('stepped down as leader', { replica: this.#id, reason });
    // A new campaign uses a new lease. Revoking the old one frees the key at once when etcd is
    // reachable (a step-down on a slow keepalive); when it is not, the key goes with the TTL.
    const old = this.#lease;
    this.#lease = undefined;
    void old?.revoke().catch(() => undefined);
    this.#notify(false);
  }

  #notify(leader: boolean): void {
    for (const listener of this.#listeners) listener(leader);
  }
}
