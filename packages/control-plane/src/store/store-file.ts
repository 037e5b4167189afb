import { KINDS, resourceKey, validateDocument, type PolicyKind, type PolicyResource } from '@weft/api';
import { isRecord, readJsonFile, writeJsonAtomic } from '../bootstrap/data-dir';
import { ControlPlaneError } from '../errors';
import { canonicalJson, deepFreeze } from './canonical-json';
import type { AppliedResult, ApplyOutcome, DeleteOutcome, Store, StoreChange, StoreListener } from './store';

const FORMAT_VERSION = 1;

interface StoreFileContent {
  readonly formatVersion: number;
  readonly revision: number;
  readonly resources: readonly PolicyResource[];
}

/**
 * The embedded store: every resource in one JSON file, rewritten atomically on each change.
 * The in-memory map is replaced only after the file is durable, so a failed write leaves both
 * unchanged: that is what makes an apply all or nothing.
 */
export class FileStore implements Store {
  readonly #file: string;
  #items: ReadonlyMap<string, PolicyResource>;
  #revision: number;
  readonly #listeners = new Set<StoreListener>();
  /** Writes run one at a time, in arrival order. */
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  private constructor(file: string, items: Map<string, PolicyResource>, revision: number) {
    this.#file = file;
    this.#items = items;
    this.#revision = revision;
  }

  static async open(file: string): Promise<FileStore> {
    const raw = await readJsonFile(file);
    if (raw === undefined) return new FileStore(file, new Map(), 0);
    if (!isRecord(raw) || typeof raw['revision'] !== 'number' || !Array.isArray(raw['resources'])) {
      throw new ControlPlaneError('WEFT_ERR_DATA_DIR', `${file} is not a Weft store (expected revision and resources)`);
    }
    const items = new Map<string, PolicyResource>();
    // Re-validated on load so that a hand-edited or older file fails here, with the field named,
    // instead of reaching sidecars and being NACKed by all of them.
    raw['resources'].forEach((value: unknown, i) => {
      const result = validateDocument({ source: file, document: i + 1, value });
      if ('issues' in result) {
        const first = result.issues[0];
        throw new ControlPlaneError('WEFT_ERR_DATA_DIR', `${file}: resource ${i + 1} is invalid: ${first?.path ?? ''} ${first?.message ?? ''}`.trim());
      }
      const r = result.resource;
      items.set(resourceKey(r.kind, r.metadata.namespace, r.metadata.name), deepFreeze(r));
    });
    return new FileStore(file, items, raw['revision']);
  }

  get revision(): number {
    return this.#revision;
  }

  list(kind?: PolicyKind, namespace?: string): readonly PolicyResource[] {
    const out: PolicyResource[] = [];
    for (const key of [...this.#items.keys()].sort()) {
      const r = this.#items.get(key) as PolicyResource;
      if (kind !== undefined && r.kind !== kind) continue;
      if (namespace && KINDS[r.kind].namespaced && r.metadata.namespace !== namespace) continue;
      out.push(r);
    }
    return out;
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
      if (!this.#items.has(key)) return { revision: this.#revision, deleted: false };
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

  async #commit(next: Map<string, PolicyResource>, keys: readonly string[]): Promise<number> {
    const revision = this.#revision + 1;
    const content: StoreFileContent = { formatVersion: FORMAT_VERSION, revision, resources: [...next.values()] };
    await writeJsonAtomic(this.#file, content);
    this.#items = next;
    this.#revision = revision;
    const change: StoreChange = { revision, keys };
    for (const listener of this.#listeners) {
      try {
        listener(change);
      } catch {
        // The change is durable; a listener's failure is its own and must not undo the apply.
      }
    }
    return revision;
  }

  #exclusive<T>(work: () => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(new ControlPlaneError('WEFT_ERR_CLOSED', 'the store is closed (the control plane is shutting down)'));
    const run = this.#queue.then(work, work);
    this.#queue = run.catch(() => undefined);
    return run;
  }
}
