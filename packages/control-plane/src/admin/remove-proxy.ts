import type { Logger, RemoveProxyResponse } from '@weft/api';
import type { DiscoveryService } from '../discovery/discovery-service';
import type { ProxyTable } from '../discovery/proxy-table';
import { ControlPlaneError } from '../errors';
import type { Registry } from '../registry/registry';
import type { CertificateLedger } from '../revocation/certificate-ledger';
import type { Revocations } from '../revocation/revocations';

export interface RemoveProxyContext {
  readonly proxies: ProxyTable;
  readonly ledger: CertificateLedger;
  readonly revocations: Revocations;
  readonly discovery: DiscoveryService;
  readonly registry: Registry;
  readonly log: Logger;
}

/**
 * `weftctl proxy remove`: revokes every certificate serial the proxy held, refuses its proxy id,
 * ends its discovery stream and drops its endpoint at once (no grace). Its current certificate
 * is not renewed and dies at expiry; until then other sidecars still accept it (no CRLs), which is
 * why workload certificates are short-lived.
 */
export async function removeProxy(ctx: RemoveProxyContext, proxyId: string): Promise<RemoveProxyResponse> {
  if (!proxyId) throw new ControlPlaneError('WEFT_ERR_INVALID_ARGUMENT', 'proxyId is required: `weftctl proxy-status -o json` lists them');
  const record = ctx.proxies.records().find((r) => r.node.proxyId === proxyId);
  const issued = ctx.ledger.forProxy(proxyId);
  if (!record && issued.length === 0) {
    throw new ControlPlaneError('WEFT_ERR_NOT_FOUND', `no proxy ${proxyId} is known (connected, recently gone, or holding a certificate): \`weftctl proxy-status -o json\` lists the proxy ids`);
  }
  const spiffeId = record?.spiffeId ?? issued[0]?.spiffeId ?? '';
  const serials = [...new Set([...issued.map((e) => e.serial), record?.node.certificateSerial ?? ''].filter(Boolean))];
  const untilMs = Math.max(record?.node.certificateExpiresAtMs ?? 0, ...issued.map((e) => e.notAfterMs));
  await ctx.revocations.removeProxy({ proxyId, spiffeId, removedAtMs: Date.now(), serials, untilMs });
  const removed = new ControlPlaneError('WEFT_ERR_PROXY_REMOVED', `proxy ${proxyId} was removed from the mesh by the operator: its certificate will not be renewed`);
  ctx.discovery.disconnect(proxyId, removed);
  ctx.registry.forget(proxyId);
  const tokenIds = [...new Set(issued.map((e) => e.tokenId).filter(Boolean))];
  ctx.log.info('proxy removed', { proxyId, spiffeId, revokedSerials: serials.length, certificateExpiresAt: new Date(untilMs).toISOString(), tokenIds });
  return { proxyId, spiffeId, revokedSerials: serials, lastCertificateExpiresAtMs: untilMs, tokenIds };
}
