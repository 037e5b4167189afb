import { resourceDocument, resourceKey, validateDocument, type Logger, type PolicyKind, type PolicyResource } from '@weft/api';
import type { Etcd3, IKeyValue, Watcher } from 'etcd3';
import { ControlPlaneError } from '../errors';
import { canonicalJson, deepFreeze } from './canonical-json';
import { storeUnavailable, type WriteGate } from './etcd-client';
import { isSkippableKind } from './store-load';
import { listResources, notifyListeners } from './store-view';
import type { AppliedResult, ApplyOutcome, DeleteOutcome, Store, StoreChange, StoreListener } from './store';

/** An apply that lost a race re-reads the keys it compared and tries again this many times. */
const CONFLICT_RETRIES = 5;

interface Entry {
  /** Undefined once deleted (kept so that a late watch event is ignored), or when it did not load. */
  readonly resource: PolicyResource | undefined;
  /** Whether the key exists in etcd: a stored document that did not load can still be replaced. */
  readonly exists: boolean;
  readonly modRevision: number;
}

/**
 * The policy store on etcd, for several control plane replicas. Each resource is one key
 * (`<prefix>/resources/<resourceKey>`) holding the document as an operator writes it. An apply is
 * one transaction whose guard compares every key it writes with the mod revision this replica
 * read: either all documents are written, or none, and a replica that read stale data retries
 * on fresh data. The revision is etcd's revision of the last resource change.
 *
 * Reads stay synchronous (the `Store` contract): every replica keeps a view filled at open and
 * kept fresh by a watch, so a change written through another replica reaches this one's listeners
 * (and its sidecars) as soon as etcd delivers the event.
 */
export class EtcdStore implements Store {
  readonly #client: Etcd3;
  readonly #prefix: string;
  readonly #log: Logger | undefined;
  readonly #health: WriteGate | undefined;
  readonly #entries = new Map<string, Entry>();
  readonly #listeners = new Set<StoreListener>();
  #revision = 0;
  #watcher: Watcher | undefined;
  #closed = false;

  private constructor(client: Etcd3, prefix: string, log: Logger | undefined, health: WriteGate | undefined) {
    this.#health = health;
    this.#client = client;
    this.#prefix = prefix;
    this.#log = log;
  }

  static async open(client: Etcd3, prefix: string, options: { readonly log?: Logger; readonly health?: WriteGate } = {}): Promise<EtcdStore> {
    const store = new EtcdStore(client, prefix, options.log, options.health);
    const res = await client.getAll().prefix(prefix).exec().catch((err: unknown) => {
      throw storeUnavailable('load the policy store', err);
    });
    for (const kv of res.kvs) {
      store.#take(kv, 'put');
      store.#refuseUnsafeSkip(kv);
    }
    const startRevision = Number(res.header.revision) + 1;
    store.#watcher = await client.watch().prefix(prefix).startRevision(String(startRevision)).create();
    store.#watcher.on('put', (kv) => store.#event(kv, 'put'));
    store.#watcher.on('delete', (kv) => store.#event(kv, 'delete'));
    store.#watcher.on('disconnected', () => options.log?.warn('etcd watch disconnected: serving the last known resources', { prefix }));
    store.#watcher.on('connected', () => options.log?.info('etcd watch connected', { prefix }));
    return store;
  }

  get revision(): number {
    return this.#revision;
  }

  list(kind?: PolicyKind, namespace?: string): readonly PolicyResource[] {
    return listResources(this.#resources(), kind, namespace);
  }

  get(key: string): PolicyResource | undefined {
    return this.#entries.get(key)?.resource;
  }

  async apply(resources: readonly PolicyResource[], options: { readonly dryRun?: boolean } = {}): Promise<ApplyOutcome> {
    this.#open();
    if (options.dryRun !== true) this.#health?.checkWritable('apply the resources');
    const keys = resources.map((r) => resourceKey(r.kind, r.metadata.namespace, r.metadata.name));
    for (let attempt = 0; ; attempt++) {
      const results: AppliedResult[] = [];
      const writes = new Map<string, PolicyResource>();
      resources.forEach((r, i) => {
        const key = keys[i] as string;
        const before = writes.get(key) ?? this.get(key);
        const action = before === undefined ? 'created' : canonicalJson(before) === canonicalJson(r) ? 'unchanged' : 'configured';
        results.push({ kind: r.kind, namespace: r.metadata.namespace, name: r.metadata.name, action });
        if (action !== 'unchanged') writes.set(key, r);
      });
      const dryRun = options.dryRun === true;
      if (dryRun || writes.size === 0) return { revision: this.#revision, results, dryRun };
      // Every key of the request is guarded, unchanged ones too: "unchanged" must still be true
      // when the others are written.
      const guarded = [...new Set(keys)];
      const put = [...writes].map(([key, r]) => ({ key, value: JSON.stringify(resourceDocument(r)) }));
      const revision = await this.#transact(guarded, put, [], 'apply the resources');
      if (revision !== undefined) return { revision, results, dryRun };
      if (attempt >= CONFLICT_RETRIES) throw conflict(guarded);
      await this.#refresh(guarded);
    }
  }

  async delete(kind: PolicyKind, namespace: string, name: string): Promise<DeleteOutcome> {
    this.#open();
    this.#health?.checkWritable(`delete ${kind} ${name}`);
    const key = resourceKey(kind, namespace, name);
    for (let attempt = 0; ; attempt++) {
      // A stored document that did not load can be deleted too: that is one of its repairs.
      if (!this.#entries.get(key)?.exists) return { revision: this.#revision, deleted: false };
      const revision = await this.#transact([key], [], [key], `delete ${kind} ${name}`);
      if (revision !== undefined) return { revision, deleted: true };
      if (attempt >= CONFLICT_RETRIES) throw conflict([key]);
      await this.#refresh([key]);
    }
  }

  subscribe(listener: StoreListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#listeners.clear();
    await this.#watcher?.cancel().catch(() => undefined);
  }

  /**
   * One transaction: if every guarded key still has the mod revision this view holds, write and
   * delete. Resolves with the new revision, or undefined when another writer got there first.
   */
  async #transact(guarded: readonly string[], puts: readonly { key: string; value: string }[], deletes: readonly string[], what: string): Promise<number | undefined> {
    const txn = this.#client.if(this.#etcdKey(guarded[0] as string), 'Mod', '==', this.#modRevision(guarded[0] as string));
    for (const key of guarded.slice(1)) txn.and(this.#etcdKey(key), 'Mod', '==', this.#modRevision(key));
    txn.then(...puts.map((p) => this.#client.put(this.#etcdKey(p.key)).value(p.value)), ...deletes.map((k) => this.#client.delete().key(this.#etcdKey(k))));
    const res = await txn.commit().catch((err: unknown) => {
      throw storeUnavailable(what, err);
    });
    if (!res.succeeded) return undefined;
    const revision = Number(res.header.revision);
    // Taken into the view now, so that the caller reads its own write; the watch event that
    // follows carries the same revision and is then ignored.
    const keys = [...puts.map((p) => p.key), ...deletes];
    for (const p of puts) this.#set(p.key, parse(p.value, p.key), revision, true);
    for (const k of deletes) this.#set(k, undefined, revision, false);
    this.#notify({ revision, keys });
    return revision;
  }

  /** Re-reads keys after a lost race (the watch may not have delivered the winner's write yet). */
  async #refresh(keys: readonly string[]): Promise<void> {
    const changed: string[] = [];
    for (const key of keys) {
      const res = await this.#client.get(this.#etcdKey(key)).exec().catch((err: unknown) => {
        throw storeUnavailable('read the resources back', err);
      });
      const kv = res.kvs[0];
      const fresh = kv
        ? this.#set(key, parse(kv.value.toString('utf8'), key, this.#log), Number(kv.mod_revision), true)
        : this.#set(key, undefined, Number(res.header.revision), false);
      if (fresh) changed.push(key);
    }
    if (changed.length > 0) this.#notify({ revision: this.#revision, keys: changed });
  }

  #event(kv: IKeyValue, type: 'put' | 'delete'): void {
    if (this.#closed) return;
    const key = this.#take(kv, type);
    if (key !== undefined) this.#notify({ revision: this.#revision, keys: [key] });
  }

  /** Applies one stored key-value to the view; returns the store key when the view changed. */
  #take(kv: IKeyValue, type: 'put' | 'delete'): string | undefined {
    const key = kv.key.toString('utf8').slice(this.#prefix.length);
    const modRevision = Number(kv.mod_revision);
    if (modRevision <= (this.#entries.get(key)?.modRevision ?? 0)) return undefined;
    const resource = type === 'put' ? parse(kv.value.toString('utf8'), key, this.#log) : undefined;
    // A security kind written later in a form this build cannot read keeps its last version here
    // (dropping a DENY would let through what it refused); the log says what to repair.
    if (type === 'put' && resource === undefined && !isSkippableKind(kindOf(key)) && this.#entries.get(key)?.resource) return undefined;
    return this.#set(key, resource, modRevision, type === 'put') ? key : undefined;
  }

  /** Ignores what is older than what the view holds for the key (a deletion included). */
  /** At open, as the file store does: a security kind that cannot be loaded stops the start. */
  #refuseUnsafeSkip(kv: IKeyValue): void {
    const key = kv.key.toString('utf8').slice(this.#prefix.length);
    if (this.#entries.get(key)?.resource !== undefined || isSkippableKind(kindOf(key))) return;
    throw new ControlPlaneError(
      'WEFT_ERR_DATA_DIR',
      `etcd key ${kv.key.toString('utf8')} (${key}) cannot be loaded, and starting without it could let through traffic it governs: ` +
        'fix or delete the key with etcdctl, or start a build that reads it, then apply a corrected resource with `weftctl apply -f`',
    );
  }

  #set(key: string, resource: PolicyResource | undefined, modRevision: number, exists: boolean): boolean {
    const seen = this.#entries.get(key);
    if (seen && modRevision <= seen.modRevision) return false;
    if (!seen && !exists) return false;
    this.#entries.set(key, { resource, exists, modRevision });
    this.#revision = Math.max(this.#revision, modRevision);
    return true;
  }

  #resources(): Map<string, PolicyResource | undefined> {
    return new Map([...this.#entries].map(([key, entry]) => [key, entry.resource]));
  }

  #modRevision(key: string): number {
    const entry = this.#entries.get(key);
    // A deleted key compares as absent (0) in etcd, whatever revision deleted it.
    return entry?.exists ? entry.modRevision : 0;
  }

  #notify(change: StoreChange): void {
    notifyListeners(this.#listeners, change);
  }

  #etcdKey(key: string): string {
    return `${this.#prefix}${key}`;
  }

  #open(): void {
    if (this.#closed) throw new ControlPlaneError('WEFT_ERR_CLOSED', 'the store is closed (the control plane is shutting down)');
  }
}

/**
 * A stored document is validated again as it is read, as the file store does: only what
 * validated was written, so a failure means a newer build or a hand edit (`etcdctl put`). Such a
 * key reads as absent, and is logged with its repair.
 */
function parse(text: string, key: string, log?: Logger): PolicyResource | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  const result = validateDocument({ source: `etcd ${key}`, document: 1, value });
  if ('resource' in result) return deepFreeze(result.resource);
  const first = result.issues[0];
  log?.error('stored resource not loaded', { key, problem: `${first?.path ?? ''} ${first?.message ?? ''}`.trim(), repair: 'apply a corrected resource with `weftctl apply -f`, or delete it' });
  return undefined;
}

/** The kind in a store key (`Route/default/reviews`). */
function kindOf(key: string): string {
  return key.split('/', 1)[0] ?? '';
}

function conflict(keys: readonly string[]): ControlPlaneError {
  return new ControlPlaneError(
    'WEFT_ERR_CONFLICT',
    `other control plane replicas kept changing ${keys.join(', ')} while this apply was retried; nothing of it was written: apply again`,
  );
}
