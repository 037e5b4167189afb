import type { ProxyStatus } from '@weft/api';
import { relativeTime, truncate } from '../output/format';
import { renderTable } from '../output/table';
import { deriveProxyStatus, type ProxySyncStatus } from '../proxy-sync-status';

/** A proxy as `-o json` shows it: every server field untouched, plus the derived name and status. */
export interface ProxyView extends ProxyStatus {
  readonly name: string;
  readonly status: ProxySyncStatus;
}

const NACK_WIDTH = 40;

/** `service.namespace`, as istioctl names proxies. */
export function proxyName(p: Pick<ProxyStatus, 'service' | 'namespace'>): string {
  return `${p.service}.${p.namespace}`;
}

/** The first 8 characters, like a short git hash: enough to tell proxies apart in a table. */
export function shortProxyId(id: string): string {
  return id.length <= 8 ? id : id.slice(0, 8);
}

export function proxyViews(proxies: readonly ProxyStatus[]): ProxyView[] {
  return [...proxies]
    .sort((a, b) => a.namespace.localeCompare(b.namespace) || a.service.localeCompare(b.service) || a.proxyId.localeCompare(b.proxyId))
    .map((p) => ({ name: proxyName(p), status: deriveProxyStatus(p), ...p }));
}

export function renderProxyTable(views: readonly ProxyView[], nowMs: number): string {
  return renderTable(
    ['NAME', 'PROXY ID', 'ADDRESS', 'STATUS', 'ACKED VERSION', 'LAST NACK', 'CERT EXPIRES', 'CONNECTED SINCE'],
    views.map((p) => [
      p.name,
      shortProxyId(p.proxyId),
      p.address ? `${p.address}${p.addressVerification && p.addressVerification !== 'verified' ? ` (${p.addressVerification})` : ''}` : '-',
      p.status,
      p.ackedVersion || '-',
      p.lastNackMessage ? truncate(p.lastNackMessage, NACK_WIDTH) : '-',
      relativeTime(p.certificateExpiresAtMs, nowMs),
      p.connected ? relativeTime(p.connectedSinceMs, nowMs) : '-',
    ]),
  );
}
