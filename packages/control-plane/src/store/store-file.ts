import { resourceDocument, resourceKey, type Logger, type PolicyKind, type PolicyResource } from '@weft/api';
import { readJsonFile, writeJsonAtomic } from '../bootstrap/data-dir';
import { ControlPlaneError } from '../errors';
import { canonicalJson, deepFreeze } from './canonical-json';
import type { AppliedResult, ApplyOutcome, DeleteOutcome, Store, StoreChange, StoreListener } from './store';
import { listResources, notifyListeners } from './store-view';
import { loadStoreContent, STORE_FORMAT_VERSION, type UnloadedResource } from './store-load';

interface StoreFileContent {
  readonly formatVersion: number;
  readonly revision: number;
  /** Each as an operator writes it (`resourceDocument`), so that the load check accepts it back. */
  readonly resources: readonly unknown[];
}

/**
 * The embedded store: every resource in one JSON file, rewritten atomically on each change.
 * The in-memory map is replaced only after the file is durable, so a failed write leaves both
 * unchanged: that is what makes an apply all or nothing.
 */
export class FileStore implements Store {
  readonly #file: string;
  #items: ReadonlyMap<string, PolicyResource>;
  /** Resources the load skipped, written back verbatim until an apply or delete replaces them. */
  #unloaded: readonly UnloadedResource[];
  #revision: number;
  readonly #listeners = new Set<StoreListener>();
  /** Writes run one at a time, in arrival order. */
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  private constructor(file: string, items: Map<string, PolicyResource>, unloaded: readonly UnloadedResource[], revision: number) {
    this.#file = file;
    this.#items = items;
    this.#unloaded = unloaded;
    this.#revision = revision;
  }

  /**
   * Resources are re-validated on load, so that a hand-edited file is caught here, with the
   * resource and field named, instead of reaching sidecars and being NACKed by all of them. What
   * cannot be loaded is logged with its repair and skipped when that is safe (`store-load.ts`).
   */
  static async open(file: string, options: { readonly log?: Logger } = {}): Promise<FileStore> {
    const raw = await readJsonFile(file);
    if (raw === undefined) return new FileStore(file, new Map(), [], 0);
    const loaded = loadStoreContent(file, raw);
    for (const u of loaded.unloaded) {
      options.log?.error('stored resource not loaded', { file, index: u.index, kind: u.kind, name: u.name, problem: u.problem });
    }
    const store = new FileStore(file, loaded.items, loaded.unloaded, loaded.revision);
    if (loaded.migrated > 0) {
      // Written back now in this build's form, so the file no longer depends on the migration.
      await writeJsonAtomic(file, store.#content(loaded.revision, loaded.items, loaded.unloaded));
      options.log?.info('store migrated to the current format', { file, resources: loaded.migrated });
    }
    return store;
  }

  get revision(): number {
    return this.#revision;
  }

  list(kind?: PolicyKind, namespace?: string): readonly PolicyResource[] {
    return listResources(this.#items, kind, namespace);
  }

  get(key: string): PolicyResource | undefined {
    return this.#items.get(key);
  }

  apply(resources: readonly PolicyResource[], options: { readonly dryRun?: boolean } = {}): Promise<ApplyOutcome> {
    return this.#exclusive(async () => {
      const next = new Map(this.#items);
      const results: AppliedResult[] = [];
      const changed: string[] = [];
      for (const r of resources) {
        const key = resourceKey(r.kind, r.metadata.namespace, r.metadata.name);
        const before = next.get(key);
        const action = before === undefined ? 'created' : canonicalJson(before) === canonicalJson(r) ? 'unchanged' : 'configured';
        results.push({ kind: r.kind, namespace: r.metadata.namespace, name: r.metadata.name, action });
        if (action === 'unchanged') continue;
        next.set(key, deepFreeze(structuredClone(r)));
        changed.push(key);
      }
      const dryRun = options.dryRun === true;
      if (dryRun || changed.length === 0) return { revision: this.#revision, results, dryRun };
      const revision = await this.#commit(next, changed);
      return { revision, results, dryRun };
    });
  }

  delete(kind: PolicyKind, namespace: string, name: string): Promise<DeleteOutcome> {
    return this.#exclusive(async () => {
      const key = resourceKey(kind, namespace, name);
      const skipped = this.#unloaded.some((u) => u.key === key);
      if (!this.#items.has(key) && !skipped) return { revision: this.#revision, deleted: false };
      const next = new Map(this.#items);
      next.delete(key);
      return { revision: await this.#commit(next, [key]), deleted: true };
    });
  }

  subscribe(listener: StoreListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#listeners.clear();
    await this.#queue.catch(() => undefined);
  }

  #content(revision: number, items: ReadonlyMap<string, PolicyResource>, unloaded: readonly UnloadedResource[]): StoreFileContent {
    return { formatVersion: STORE_FORMAT_VERSION, revision, resources: [...[...items.values()].map(resourceDocument), ...unloaded.map((u) => u.raw)] };
  }

  async #commit(next: Map<string, PolicyResource>, keys: readonly string[]): Promise<number> {
    const revision = this.#revision + 1;
    // An apply or delete of a skipped resource's key replaces it: that is one of its repairs.
    const unloaded = this.#unloaded.filter((u) => u.key === undefined || !keys.includes(u.key));
    await writeJsonAtomic(this.#file, this.#content(revision, next, unloaded));
    this.#items = next;
    this.#unloaded = unloaded;
    this.#revision = revision;
    const change: StoreChange = { revision, keys };
    notifyListeners(this.#listeners, change);
    return revision;
  }

  #exclusive<T>(work: () => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(new ControlPlaneError('WEFT_ERR_CLOSED', 'the store is closed (the control plane is shutting down)'));
    const run = this.#queue.then(work, work);
    this.#queue = run.catch(() => undefined);
    return run;
  }
}
