import { spiffeId, type WireServiceEndpoints } from '@weft/api';
import type { ServiceEntry } from './registry';

/** Where endpoints by service come from: the registry alone, or merged with Consul (registry-source.ts). */
export interface ServiceSource {
  services(options?: { readonly published?: boolean }): readonly ServiceEntry[];
}

/**
 * The registry as the wire shows it. Snapshots (`published`) carry only verified endpoints;
 * ListServices shows every endpoint with its verification, so an operator sees why one is missing.
 */
export function servicesToWire(registry: ServiceSource, trustDomain: string, options: { readonly published?: boolean } = {}): WireServiceEndpoints[] {
  const published = options.published === true;
  return registry.services({ published }).map((s) => ({
    service: s.service,
    namespace: s.namespace,
    spiffeId: spiffeId({ trustDomain, namespace: s.namespace, service: s.service }),
    endpoints: s.endpoints.map((e) => ({
      address: e.address,
      labels: { ...e.labels },
      ready: e.ready,
      proxyId: e.proxyId,
      appPort: e.appPort ?? 0,
      ...(published ? {} : { verification: e.verification, verificationDetail: e.verificationDetail }),
    })),
  }));
}
