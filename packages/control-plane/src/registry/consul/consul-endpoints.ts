import { DEFAULT_NAMESPACE, NAME_RE } from '@weft/api';
import type { RegistryEndpoint, ServiceEntry } from '../registry';
import type { HealthEntry } from './consul-client';

/**
 * Consul service Meta that makes an instance a mesh endpoint. A sidecar started with
 * `--consul-register` writes these; an instance without `weft-proxy-id` and `weft-inbound` is
 * outside the mesh (see docs/consul.md: it is not pushed to sidecars, which only speak mTLS to
 * peers that prove the destination's identity).
 */
export const CONSUL_META = Object.freeze({
  proxyId: 'weft-proxy-id',
  /** The sidecar's mTLS inbound address, HOST:PORT. */
  inbound: 'weft-inbound',
  namespace: 'weft-namespace',
  appPort: 'weft-app-port',
  /** `weft-label-<key>`: one per label (subsets select on them). */
  labelPrefix: 'weft-label-',
});

/** A Consul instance as a mesh endpoint, or undefined when it is outside the mesh. */
export function meshEndpoint(entry: HealthEntry): RegistryEndpoint | undefined {
  const proxyId = entry.meta[CONSUL_META.proxyId];
  const address = entry.meta[CONSUL_META.inbound];
  const namespace = entry.meta[CONSUL_META.namespace] ?? DEFAULT_NAMESPACE;
  if (!proxyId || !address || !/^[^\s]+:\d{1,5}$/.test(address) || !NAME_RE.test(entry.service) || !NAME_RE.test(namespace)) return undefined;
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(entry.meta)) if (k.startsWith(CONSUL_META.labelPrefix)) labels[k.slice(CONSUL_META.labelPrefix.length)] = v;
  const appPort = Number(entry.meta[CONSUL_META.appPort] ?? '0');
  return {
    proxyId, service: entry.service, namespace, address, labels, ready: entry.passing,
    appPort: Number.isInteger(appPort) && appPort > 0 && appPort <= 65535 ? appPort : 0,
    state: 'catalog', verification: 'consul', verificationDetail: 'listed by Consul; not dialed by the control plane',
  };
}

/**
 * The announced endpoints merged with Consul's mesh instances, de-duplicated by proxy id:
 * - an announced endpoint whose instance Consul lists with a failing check is not ready (callers
 *   stop sending to it), whatever the sidecar says; one Consul does not list keeps its own readiness;
 * - an instance Consul lists that no sidecar announced here (its sidecar talks to another control
 *   plane replica, or its stream is down) is added; `published` keeps only passing ones.
 * `announcedIds`: every announced proxy id, published or not, so that an announced endpoint whose
 * address failed verification is not brought back by its Consul twin.
 */
export function mergeConsul(
  announced: readonly ServiceEntry[],
  announcedIds: ReadonlySet<string>,
  instances: ReadonlyMap<string, readonly HealthEntry[]>,
  options: { readonly published?: boolean } = {},
): ServiceEntry[] {
  const fromConsul = new Map<string, RegistryEndpoint>();
  for (const entries of instances.values()) {
    for (const entry of entries) {
      const endpoint = meshEndpoint(entry);
      if (endpoint) fromConsul.set(endpoint.proxyId, endpoint);
    }
  }
  const byService = new Map<string, RegistryEndpoint[]>();
  const add = (e: RegistryEndpoint): void => {
    const key = `${e.namespace}/${e.service}`;
    byService.set(key, [...(byService.get(key) ?? []), e]);
  };
  for (const service of announced) {
    for (const e of service.endpoints) {
      const twin = fromConsul.get(e.proxyId);
      add(twin && !twin.ready && e.ready ? { ...e, ready: false } : e);
    }
  }
  for (const e of fromConsul.values()) {
    if (announcedIds.has(e.proxyId) || (options.published && !e.ready)) continue;
    add(e);
  }
  return [...byService.keys()].sort().map((key) => {
    const endpoints = (byService.get(key) as RegistryEndpoint[]).sort((a, b) => a.proxyId.localeCompare(b.proxyId));
    const first = endpoints[0] as RegistryEndpoint;
    return { service: first.service, namespace: first.namespace, endpoints };
  });
}
