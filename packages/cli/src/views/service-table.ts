import type { WireServiceEndpoints } from '@weft/api';
import { renderTable } from '../output/table';

export function sortServices(services: readonly WireServiceEndpoints[]): WireServiceEndpoints[] {
  return [...services].sort((a, b) => a.namespace.localeCompare(b.namespace) || a.service.localeCompare(b.service));
}

/** ENDPOINTS is ready/total: an endpoint that is not ready receives no traffic. */
export function renderServiceTable(services: readonly WireServiceEndpoints[]): string {
  return renderTable(
    ['NAMESPACE', 'NAME', 'ENDPOINTS', 'ADDRESSES'],
    services.map((s) => [
      s.namespace,
      s.service,
      `${s.endpoints.filter((e) => e.ready).length}/${s.endpoints.length}`,
      s.endpoints.map((e) => (e.ready ? e.address : `${e.address} (not ready)`)).join(', ') || '-',
    ]),
  );
}
