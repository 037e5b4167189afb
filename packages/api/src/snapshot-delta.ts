import type { Snapshot, WireResource, WireServiceEndpoints } from './wire';

/**
 * The Node feature a sidecar lists when it accepts a snapshot as a delta against the version it
 * runs (`Snapshot.base_version`). A sidecar without it is always sent whole snapshots.
 */
export const DELTA_FEATURE = 'delta';

/** How a snapshot's resources are ordered and told apart: the store's key order (kind, namespace, name). */
export function wireResourceKey(r: Pick<WireResource, 'kind' | 'namespace' | 'name'>): string {
  return `${r.kind}/${r.namespace}/${r.name}`;
}

/** How a snapshot's services are ordered and told apart. */
export function wireServiceKey(s: Pick<WireServiceEndpoints, 'service' | 'namespace'>): string {
  return `${s.namespace}/${s.service}`;
}

export function isSnapshotDelta(snapshot: Snapshot): boolean {
  return (snapshot.baseVersion ?? '') !== '';
}

/**
 * What turns `base` (sent as `baseVersion`) into `next`: the resources and services that are new
 * or differ, and the keys of those gone. Resources are compared by their JSON; services by
 * reference (the control plane reuses an unchanged entry's object across versions). The small fields
 * (mesh config, trust bundle, revision, signing root) always travel whole.
 */
export function snapshotDelta(base: Snapshot, next: Snapshot, baseVersion: string): Snapshot {
  const resources = changed(base.resources, next.resources, wireResourceKey, (a, b) => a.json === b.json);
  // A service entry (all its endpoints) is compared by reference only: the control plane reuses
  // an unchanged one, and comparing contents cost as much as sending them.
  const services = changed(base.services, next.services, wireServiceKey, () => false);
  return {
    meshConfigJson: next.meshConfigJson,
    resources: resources.changed,
    services: services.changed,
    trustBundlePem: next.trustBundlePem,
    storeRevision: next.storeRevision,
    signingRootFingerprint: next.signingRootFingerprint ?? '',
    baseVersion,
    removedResources: resources.removed,
    removedServices: services.removed,
  };
}

/**
 * The whole snapshot a delta describes, given the whole snapshot of its base version. Resources
 * and services come out in key order, the order the control plane builds whole snapshots in, so
 * a delta and the whole snapshot of one version compile to the same config.
 */
export function applySnapshotDelta(base: Snapshot, delta: Snapshot): Snapshot {
  return {
    meshConfigJson: delta.meshConfigJson,
    resources: merged(base.resources, delta.resources, delta.removedResources ?? [], wireResourceKey),
    services: merged(base.services, delta.services, delta.removedServices ?? [], wireServiceKey),
    trustBundlePem: delta.trustBundlePem,
    storeRevision: delta.storeRevision,
    signingRootFingerprint: delta.signingRootFingerprint ?? '',
  };
}

function changed<T>(base: readonly T[], next: readonly T[], key: (t: T) => string, same: (a: T, b: T) => boolean): { changed: T[]; removed: string[] } {
  const before = new Map(base.map((t) => [key(t), t]));
  const out: T[] = [];
  for (const t of next) {
    const k = key(t);
    const old = before.get(k);
    before.delete(k);
    if (old === t || (old !== undefined && same(old, t))) continue;
    out.push(t);
  }
  return { changed: out, removed: [...before.keys()].sort() };
}

function merged<T>(base: readonly T[], changes: readonly T[], removed: readonly string[], key: (t: T) => string): T[] {
  const byKey = new Map(base.map((t) => [key(t), t]));
  for (const k of removed) byKey.delete(k);
  for (const t of changes) byKey.set(key(t), t);
  return [...byKey.keys()].sort().map((k) => byKey.get(k) as T);
}
