import type { AuthzTable, EffectiveMeshConfig, Snapshot } from '@weft/api';
import type { SelfInfo } from '../self';
import { compileAddresses, type AddressTables } from './compile-addresses';
import { compileAuthzTable } from './compile-authz';
import { compileRateLimit } from './compile-policy';
import { compileService, destinationKey } from './compile-service';
import { describeConfig } from './describe';
import { ConfigCompileError } from './errors';
import type { CompiledConfig, CompiledRateLimit, CompiledService } from './types';
import { validateSnapshot } from './validate-snapshot';

/**
 * Compiles a snapshot into frozen lookup tables: the route table per destination and the
 * authority table that maps every name an app may use for a destination to it.
 */
export function compile(snapshot: Snapshot, version: string, self: SelfInfo): CompiledConfig {
  const validated = validateSnapshot(snapshot, self.trustDomain);
  const policies = indexBy(validated.servicePolicies, (p) => destinationKey(p.spec.service, p.metadata.namespace));
  const routes = groupBy(validated.routes, (r) => destinationKey(r.spec.service, r.metadata.namespace));

  const services = new Map<string, CompiledService>();
  for (const wire of snapshot.services) {
    const key = destinationKey(wire.service, wire.namespace);
    if (services.has(key)) throw new ConfigCompileError(`services: ${key} is listed twice`);
    services.set(key, compileService(wire, policies.get(key), routes.get(key) ?? [], validated.mesh.minTLSVersion));
  }
  const addresses = compileAddresses(snapshot.services, services, (w) => destinationKey(w.service, w.namespace));
  return new Compiled({
    version,
    storeRevision: snapshot.storeRevision,
    mesh: Object.freeze({ ...validated.mesh, tracing: Object.freeze({ ...validated.mesh.tracing }) }),
    trustBundlePem: Object.freeze([...snapshot.trustBundlePem]),
    services,
    authorities: authorityTable(services, self.namespace, addresses),
    addresses,
    orphanRoutes: [...routes.keys()].filter((k) => !services.has(k)).sort(),
    authz: compileAuthzTable(validated.authorizationPolicies, self),
    localRateLimit: compileRateLimit(policies.get(destinationKey(self.service, self.namespace))),
  });
}

interface CompiledParts {
  readonly version: string;
  readonly storeRevision: number;
  readonly mesh: EffectiveMeshConfig;
  readonly trustBundlePem: readonly string[];
  readonly services: ReadonlyMap<string, CompiledService>;
  readonly authorities: ReadonlyMap<string, CompiledService>;
  readonly addresses: AddressTables;
  readonly orphanRoutes: readonly string[];
  readonly authz: AuthzTable;
  readonly localRateLimit: CompiledRateLimit | undefined;
}

class Compiled implements CompiledConfig {
  readonly version: string;
  readonly storeRevision: number;
  readonly mesh: EffectiveMeshConfig;
  readonly trustBundlePem: readonly string[];
  readonly services: ReadonlyMap<string, CompiledService>;
  readonly authz: AuthzTable;
  readonly localRateLimit: CompiledRateLimit | undefined;
  readonly #authorities: ReadonlyMap<string, CompiledService>;
  readonly #orphanRoutes: readonly string[];
  readonly #addresses: AddressTables;

  constructor(parts: CompiledParts) {
    this.version = parts.version;
    this.storeRevision = parts.storeRevision;
    this.mesh = parts.mesh;
    this.trustBundlePem = parts.trustBundlePem;
    this.services = parts.services;
    this.authz = parts.authz;
    this.localRateLimit = parts.localRateLimit;
    this.#authorities = parts.authorities;
    this.#orphanRoutes = parts.orphanRoutes;
    this.#addresses = parts.addresses;
    Object.freeze(this);
  }

  lookup(authority: string): CompiledService | undefined {
    return this.#authorities.get(authority);
  }

  lookupAddress(host: string, port: number): CompiledService | undefined {
    return this.#addresses.byAddress.get(`${host}:${port}`);
  }

  hostsOf(service: CompiledService): readonly string[] {
    return this.#addresses.hosts.get(service.key) ?? [];
  }

  describe(): unknown {
    return describeConfig(this, this.#orphanRoutes);
  }
}

/**
 * Every form of a destination's name, precomputed so that a request does one map lookup:
 * `orders.shop`, `orders.shop.svc`, `orders.shop.svc.cluster.local`, and the bare `orders` for
 * destinations in this sidecar's own namespace (as Kubernetes DNS resolves a short name). An
 * endpoint's host counts as a name too (`Host: 10.0.0.7:8080` from an app that called an address),
 * when that host serves one service only.
 */
function authorityTable(services: ReadonlyMap<string, CompiledService>, ownNamespace: string, addresses: AddressTables): Map<string, CompiledService> {
  const table = new Map<string, CompiledService>(addresses.byHost);
  for (const s of services.values()) {
    const full = `${s.service}.${s.namespace}`;
    for (const name of [full, `${full}.svc`, `${full}.svc.cluster.local`]) table.set(name, s);
    if (s.namespace === ownNamespace) table.set(s.service, s);
  }
  return table;
}

function indexBy<T extends { readonly metadata: { readonly name: string } }>(items: readonly T[], key: (t: T) => string): Map<string, T> {
  // Names are unique per kind and namespace; two ServicePolicies for one service are resolved by
  // resource name so that every sidecar picks the same one.
  const sorted = [...items].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  const map = new Map<string, T>();
  for (const item of sorted) if (!map.has(key(item))) map.set(key(item), item);
  return map;
}

function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const item of items) {
    const list = map.get(key(item));
    if (list) list.push(item);
    else map.set(key(item), [item]);
  }
  return map;
}
