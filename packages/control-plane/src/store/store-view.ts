import { KINDS, type PolicyKind, type PolicyResource } from '@weft/api';
import type { StoreChange, StoreListener } from './store';

/**
 * `Store.list` over any backend's in-memory view: sorted by key, narrowed by kind and namespace
 * (namespace ignored for mesh-wide kinds). Keys whose value is undefined (deleted) are skipped.
 */
export function listResources(items: ReadonlyMap<string, PolicyResource | undefined>, kind?: PolicyKind, namespace?: string): readonly PolicyResource[] {
  const out: PolicyResource[] = [];
  for (const key of [...items.keys()].sort()) {
    const r = items.get(key);
    if (r === undefined) continue;
    if (kind !== undefined && r.kind !== kind) continue;
    if (namespace && KINDS[r.kind].namespaced && r.metadata.namespace !== namespace) continue;
    out.push(r);
  }
  return out;
}

/** Tells every listener; a listener's failure is its own and must not undo a durable change. */
export function notifyListeners(listeners: Iterable<StoreListener>, change: StoreChange): void {
  for (const listener of listeners) {
    try {
      listener(change);
    } catch {
      // The change is durable already.
    }
  }
}
