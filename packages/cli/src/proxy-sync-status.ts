import type { ProxyStatus } from '@weft/api';

/**
 * How a proxy's configuration stands, derived only from what the control plane reports:
 * - DISCONNECTED: no discovery stream open now (it may still serve its last config).
 * - PENDING: connected, but no version has been sent to it yet.
 * - SYNCED: it ACKed the newest version sent to it, so it runs that version.
 * - NACKED: it rejected the newest version sent to it and keeps running an older one.
 * - STALE: the newest version was sent but neither ACKed nor NACKed yet (in flight, or stuck).
 */
export type ProxySyncStatus = 'SYNCED' | 'STALE' | 'NACKED' | 'DISCONNECTED' | 'PENDING';

export function deriveProxyStatus(
  p: Pick<ProxyStatus, 'connected' | 'sentVersion' | 'ackedVersion' | 'lastNackVersion'>,
): ProxySyncStatus {
  if (!p.connected) return 'DISCONNECTED';
  if (!p.sentVersion) return 'PENDING';
  if (p.ackedVersion === p.sentVersion) return 'SYNCED';
  if (p.lastNackVersion === p.sentVersion) return 'NACKED';
  return 'STALE';
}
