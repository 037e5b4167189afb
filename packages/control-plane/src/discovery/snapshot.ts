import { type PolicyResource, type Snapshot, type WireResource, type WireServiceEndpoints } from '@weft/api';
import { servicesToWire, type ServiceSource } from '../registry/registry-wire';
import { canonicalJson, deepFreeze, sha256Hex } from '../store/canonical-json';
import type { Store } from '../store/store';

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
  /** `<storeRevision>-<first 8 hex of sha256(content)>`: equal content at one revision, equal version. */
  readonly version: string;
  readonly snapshot: Snapshot;
  /** Fingerprints of `snapshot.trustBundlePem`: what a proxy trusts once it ACKs this version. */
  readonly trustFingerprints: readonly string[];
}

/** The part of a snapshot every proxy shares; built once per change, not once per proxy. */
interface SharedPart {
  readonly revision: number;
  readonly meshConfigJson: string;
  readonly resources: readonly WireResource[];
  readonly authorizationPolicies: readonly PolicyResource[];
  readonly services: readonly WireServiceEndpoints[];
  readonly trustBundlePem: readonly string[];
  readonly trustFingerprints: readonly string[];
  readonly signingRootFingerprint: string;
  /** sha256 of the canonical JSON of everything above that every proxy gets: hashed once per change. */
  readonly sharedHash: string;
}

/**
 * Builds per-proxy snapshots: every Route and ServicePolicy, the AuthorizationPolicies of the
 * proxy's own service, every service's endpoints, the mesh config and the trust bundle.
 * Results are cached per service identity until `invalidate()`, so a push to a thousand
 * replicas of one service hashes one snapshot.
 */
export class SnapshotBuilder {
  readonly #sources: SnapshotSources;
  #shared: SharedPart | undefined;
  readonly #byIdentity = new Map<string, VersionedSnapshot>();

  constructor(sources: SnapshotSources) {
    this.#sources = sources;
  }

  invalidate(): void {
    this.#shared = undefined;
    this.#byIdentity.clear();
  }

  forProxy(service: string, namespace: string): VersionedSnapshot {
    const key = `${namespace}/${service}`;
    const cached = this.#byIdentity.get(key);
    if (cached) return cached;
    const shared = (this.#shared ??= this.#buildShared());
    const ownPolicies = shared.authorizationPolicies
      .filter((p) => p.kind === 'AuthorizationPolicy' && p.spec.service === service && p.metadata.namespace === namespace)
      .map(toWireResource);
    const content = {
      meshConfigJson: shared.meshConfigJson,
      resources: [...shared.resources, ...ownPolicies],
      services: shared.services,
      trustBundlePem: shared.trustBundlePem,
      signingRootFingerprint: shared.signingRootFingerprint,
    };
    // The mesh-wide part (every service's endpoints: it grows with the fleet) was hashed once in
    // #buildShared; hashing it again per service identity made each push O(services x proxies).
    const hash = sha256Hex(`${shared.sharedHash}\n${canonicalJson(ownPolicies)}`).slice(0, 8);
    const built: VersionedSnapshot = deepFreeze({
      version: `${shared.revision}-${hash}`,
      snapshot: { ...content, resources: content.resources, storeRevision: shared.revision } as Snapshot,
      trustFingerprints: shared.trustFingerprints,
    });
    this.#byIdentity.set(key, built);
    return built;
  }

  #buildShared(): SharedPart {
    const { store, registry, trustDomain, trust, remoteEndpoints } = this.#sources;
    const local = servicesToWire(registry, trustDomain, { published: true });
    const meshConfig = store.list('MeshConfig')[0];
    const policies = store.list().filter((r) => r.kind === 'Route' || r.kind === 'ServicePolicy');
    const part = {
      meshConfigJson: meshConfig ? canonicalJson(meshConfig.spec) : '{}',
      resources: policies.map(toWireResource),
      services: remoteEndpoints ? remoteEndpoints.merge(local) : local,
      trustBundlePem: [...trust.trustBundlePem],
      signingRootFingerprint: trust.rootFingerprint,
    };
    return {
      ...part,
      revision: store.revision,
      authorizationPolicies: store.list('AuthorizationPolicy'),
      trustFingerprints: [...trust.trustBundleFingerprints],
      sharedHash: sha256Hex(canonicalJson(part)),
    };
  }
}

function toWireResource(r: PolicyResource): WireResource {
  return { kind: r.kind, namespace: r.metadata.namespace, name: r.metadata.name, json: canonicalJson(r) };
}
