import { snapshotDelta, spiffeId, wireResourceKey, type AuthorizationPolicy, type PolicyResource, type Snapshot, type WireResource, type WireServiceEndpoints } from '@weft/api';
import { servicesToWire, type ServiceSource } from '../registry/registry-wire';
import { canonicalJson, deepFreeze, sha256Hex } from '../store/canonical-json';
import type { Store } from '../store/store';
import { CallScope } from './snapshot-scope';

/** The part of the mesh's trust a snapshot carries (MeshAuthority has it). */
export interface TrustSource {
  readonly trustBundlePem: readonly string[];
  readonly trustBundleFingerprints: readonly string[];
  /** The root new certificates are issued under. */
  readonly rootFingerprint: string;
}

export interface SnapshotSources {
  readonly store: Store;
  readonly registry: ServiceSource;
  readonly trustDomain: string;
  readonly trust: TrustSource;
  /** Endpoints published by other control plane replicas, added to this one's (HA on etcd). */
  readonly remoteEndpoints?: { merge(local: readonly WireServiceEndpoints[]): WireServiceEndpoints[] };
}

export interface VersionedSnapshot {
  /**
   * `<storeRevision>-<first 8 hex of sha256(content)>`, the revision being the one at which this
   * identity's content last changed: a change that does not concern it leaves its version (and so
   * its proxies) alone.
   */
  readonly version: string;
  readonly snapshot: Snapshot;
  /** Fingerprints of `snapshot.trustBundlePem`: what a proxy trusts once it ACKs this version. */
  readonly trustFingerprints: readonly string[];
}

/** What the callers of one destination (`namespace/service`) get about it; built once per change. */
interface Destination {
  readonly key: string;
  /** Its Routes and ServicePolicies. */
  readonly resources: readonly WireResource[];
  readonly endpoints: WireServiceEndpoints | undefined;
  readonly hash: string;
}

/** Everything one change's snapshots are assembled from. */
interface Build {
  readonly revision: number;
  readonly meshConfigJson: string;
  readonly trustBundlePem: readonly string[];
  readonly trustFingerprints: readonly string[];
  readonly signingRootFingerprint: string;
  /** sha256 of the fields above that every proxy gets. */
  readonly meshHash: string;
  /** In key order. */
  readonly destinations: readonly Destination[];
  /** Destination key -> its AuthorizationPolicies (for its own proxies' inbound side). */
  readonly authorization: ReadonlyMap<string, readonly WireResource[]>;
  readonly scope: CallScope;
}

/**
 * Builds per-proxy snapshots scoped to what each proxy's service may call (snapshot-scope.ts):
 * the mesh config and trust bundle, the Routes, ServicePolicies and endpoints of those
 * destinations, and its own AuthorizationPolicies and ServicePolicy (its inbound side).
 *
 * Per change, the per-destination parts are built and hashed once (work proportional to the mesh,
 * not to mesh x proxies); a snapshot per service identity is then assembled from them on first
 * use and cached until the next change. An identity whose content did not change keeps its
 * previous version and snapshot object, so its proxies are not pushed, and a destination whose
 * part did not change keeps its objects, so deltas compare them by reference.
 */
export class SnapshotBuilder {
  readonly #sources: SnapshotSources;
  #build: Build | undefined;
  /** Endpoints changed since #build: rebuilt by refresh(), before the next push. */
  #endpointsStale = false;
  #previousDestinations = new Map<string, Destination>();
  readonly #byIdentity = new Map<string, VersionedSnapshot>();
  /** The last snapshot built per identity, kept across changes: an unchanged identity keeps its version. */
  readonly #lastByIdentity = new Map<string, { readonly hash: string; readonly built: VersionedSnapshot }>();
  /** Deltas by target snapshot, then base version: shared by every proxy of one identity. */
  readonly #deltas = new WeakMap<VersionedSnapshot, Map<string, Snapshot>>();

  constructor(sources: SnapshotSources) {
    this.#sources = sources;
  }

  /**
   * Something snapshots carry changed. A change of policy or trust drops the snapshots at once
   * (the next one built has it). A change of endpoints only marks them stale: they are rebuilt by
   * refresh(), which every push calls first. Streams that open meanwhile get the previous
   * snapshots and the push that follows brings them the endpoints: during a join or after a
   * restart every announcement is an endpoint change, and rebuilding for each stream that opens
   * made that O(proxies^2).
   */
  invalidate(what: 'all' | 'endpoints' = 'all'): void {
    if (what === 'endpoints' && this.#build) this.#endpointsStale = true;
    else this.#drop();
  }

  /** Rebuilds what went stale; called before a push, and before showing what a proxy would be sent now. */
  refresh(): void {
    if (this.#endpointsStale) this.#drop();
  }

  #drop(): void {
    if (this.#build) this.#previousDestinations = new Map(this.#build.destinations.map((d) => [d.key, d]));
    this.#build = undefined;
    this.#endpointsStale = false;
    this.#byIdentity.clear();
  }

  forProxy(service: string, namespace: string): VersionedSnapshot {
    const key = `${namespace}/${service}`;
    const cached = this.#byIdentity.get(key);
    if (cached) return cached;
    const build = (this.#build ??= this.#buildParts());
    const caller = spiffeId({ trustDomain: this.#sources.trustDomain, namespace, service });
    // Its inbound side: its own AuthorizationPolicies, and its own ServicePolicy (a rate limit)
    // even when it may not call its own service.
    const own: WireResource[] = [...(build.authorization.get(key) ?? [])];
    const resources: WireResource[] = [];
    const services: WireServiceEndpoints[] = [];
    const hashes: string[] = [build.meshHash];
    for (const d of build.destinations) {
      if (build.scope.mayCall(caller, d.key)) {
        resources.push(...d.resources);
        if (d.endpoints) services.push(d.endpoints);
        hashes.push(d.hash);
      } else if (d.key === key) {
        own.push(...d.resources.filter((r) => r.kind === 'ServicePolicy'));
      }
    }
    resources.push(...own);
    hashes.push(sha256Hex(canonicalJson(own)));
    const hash = sha256Hex(hashes.join('\n')).slice(0, 8);
    const last = this.#lastByIdentity.get(key);
    let built: VersionedSnapshot;
    if (last && last.hash === hash) {
      built = last.built;
    } else {
      resources.sort((a, b) => (wireResourceKey(a) < wireResourceKey(b) ? -1 : 1));
      built = deepFreeze({
        version: `${build.revision}-${hash}`,
        snapshot: {
          meshConfigJson: build.meshConfigJson,
          resources,
          services,
          trustBundlePem: build.trustBundlePem,
          storeRevision: build.revision,
          signingRootFingerprint: build.signingRootFingerprint,
        } as Snapshot,
        trustFingerprints: build.trustFingerprints,
      });
      this.#lastByIdentity.set(key, { hash, built });
    }
    this.#byIdentity.set(key, built);
    return built;
  }

  /** `target` as a delta against `base` (which a proxy runs), built once per pair and frozen. */
  delta(base: VersionedSnapshot, target: VersionedSnapshot): Snapshot {
    let byBase = this.#deltas.get(target);
    if (!byBase) this.#deltas.set(target, (byBase = new Map()));
    let delta = byBase.get(base.version);
    if (!delta) {
      delta = deepFreeze(snapshotDelta(base.snapshot, target.snapshot, base.version));
      byBase.set(base.version, delta);
    }
    return delta;
  }

  #buildParts(): Build {
    const { store, registry, trustDomain, trust, remoteEndpoints } = this.#sources;
    const local = servicesToWire(registry, trustDomain, { published: true });
    const meshConfig = store.list('MeshConfig')[0];
    const resourcesOf = new Map<string, WireResource[]>();
    const authorization = new Map<string, WireResource[]>();
    for (const r of store.list()) {
      if (r.kind === 'MeshConfig') continue;
      const key = `${r.metadata.namespace}/${r.spec.service}`;
      const into = r.kind === 'AuthorizationPolicy' ? authorization : resourcesOf;
      let list = into.get(key);
      if (!list) into.set(key, (list = []));
      list.push(toWireResource(r));
    }
    const endpointsOf = new Map((remoteEndpoints ? remoteEndpoints.merge(local) : local).map((s) => [`${s.namespace}/${s.service}`, s]));
    const destinations = [...new Set([...resourcesOf.keys(), ...endpointsOf.keys()])].sort().map((key) => this.#destination(key, resourcesOf.get(key) ?? [], endpointsOf.get(key)));
    const mesh = {
      meshConfigJson: meshConfig ? canonicalJson(meshConfig.spec) : '{}',
      trustBundlePem: [...trust.trustBundlePem],
      signingRootFingerprint: trust.rootFingerprint,
    };
    return {
      ...mesh,
      revision: store.revision,
      trustFingerprints: [...trust.trustBundleFingerprints],
      meshHash: sha256Hex(canonicalJson(mesh)),
      destinations,
      authorization,
      scope: new CallScope(store.list('AuthorizationPolicy') as readonly AuthorizationPolicy[], trustDomain),
    };
  }

  /** One destination's part; the previous change's object when its content is the same. */
  #destination(key: string, resources: readonly WireResource[], endpoints: WireServiceEndpoints | undefined): Destination {
    // Resource bodies are canonical JSON already; endpoint entries come from servicesToWire in
    // one key order (labels aside: two orders of equal labels only cost one needless push).
    const hash = sha256Hex(JSON.stringify([resources.map((r) => r.json), endpoints ?? null]));
    const previous = this.#previousDestinations.get(key);
    if (previous && previous.hash === hash) return previous;
    return deepFreeze({ key, resources, endpoints, hash });
  }
}

function toWireResource(r: PolicyResource): WireResource {
  return { kind: r.kind, namespace: r.metadata.namespace, name: r.metadata.name, json: canonicalJson(r) };
}
