import { spiffeId, type WireServiceEndpoints } from '@weft/api';
import type { Registry } from './registry';

/** The registry as the wire shows it (ListServices and snapshots use the same shape). */
export function servicesToWire(registry: Registry, trustDomain: string): WireServiceEndpoints[] {
  return registry.services().map((s) => ({
    service: s.service,
    namespace: s.namespace,
    spiffeId: spiffeId({ trustDomain, namespace: s.namespace, service: s.service }),
    endpoints: s.endpoints.map((e) => ({ address: e.address, labels: { ...e.labels }, ready: e.ready, proxyId: e.proxyId })),
  }));
}
