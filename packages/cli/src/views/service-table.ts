import { inSubset, type ServicePolicy, type WireEndpoint, type WireServiceEndpoints } from '@weft/api';
import { renderTable } from '../output/table';

export function sortServices(services: readonly WireServiceEndpoints[]): WireServiceEndpoints[] {
  return [...services].sort((a, b) => a.namespace.localeCompare(b.namespace) || a.service.localeCompare(b.service));
}

/** Whether callers are sent this endpoint: its address was verified or listed by Consul (older control planes do not say). */
function published(e: WireEndpoint): boolean {
  return !e.verification || e.verification === 'verified' || e.verification === 'consul';
}

/** `ready/total`: an endpoint that is not ready, or whose address is not verified, receives no traffic. */
function counts(endpoints: readonly WireEndpoint[]): string {
  return `${endpoints.filter((e) => e.ready && published(e)).length}/${endpoints.length}`;
}

/** ` (refused)`, ` (unverified)`: why callers do not get it (`-o json` has the detail). */
function verificationNote(e: WireEndpoint): string {
  if (e.verification === 'consul') return ' (from consul)';
  return published(e) ? '' : ` (${e.verification})`;
}

function labelText(labels: Readonly<Record<string, string>>): string {
  const pairs = Object.entries(labels).sort(([a], [b]) => a.localeCompare(b));
  return pairs.length === 0 ? '' : ` {${pairs.map(([k, v]) => `${k}=${v}`).join(',')}}`;
}

/**
 * ENDPOINTS is ready/total; an address the control plane could not verify (it did not serve the
 * announcing proxy's identity) is marked and not counted as ready: callers are not sent it. SUBSETS lists each subset the service's ServicePolicies define with
 * ready/total of the endpoints whose labels match it, so a subset no instance matches shows as
 * `v2 0/0`; ADDRESSES shows each endpoint's labels, to see why. Both are where a 503 "no ready
 * endpoints" points.
 */
export function renderServiceTable(services: readonly WireServiceEndpoints[], policies: readonly ServicePolicy[] = []): string {
  return renderTable(
    ['NAMESPACE', 'NAME', 'ENDPOINTS', 'SUBSETS', 'ADDRESSES'],
    services.map((s) => {
      const subsets = policies
        .filter((p) => p.metadata.namespace === s.namespace && p.spec.service === s.service)
        .flatMap((p) => p.spec.subsets ?? [])
        .map((sub) => `${sub.name} ${counts(s.endpoints.filter((e) => inSubset(e.labels, sub.labels)))}`);
      return [
        s.namespace,
        s.service,
        counts(s.endpoints),
        subsets.join(', ') || '-',
        s.endpoints.map((e) => `${e.address}${labelText(e.labels)}${e.ready ? '' : ' (not ready)'}${verificationNote(e)}`).join(', ') || '-',
      ];
    }),
  );
}
