import type { GetProxyConfigRequest, ProxyConfig, ProxyStatus } from '@weft/api';
import type { ProxyTable } from '../discovery/proxy-table';
import { proxyStatusOf } from '../discovery/proxy-table';
import type { SnapshotBuilder } from '../discovery/snapshot';
import { ControlPlaneError } from '../errors';
import type { Registry } from '../registry/registry';

export interface ProxyConfigContext {
  readonly proxies: ProxyTable;
  readonly registry: Registry;
  readonly snapshots: SnapshotBuilder;
}

/** A proxy as ListProxies shows it: its record, plus whether its announced address was verified. */
export function withVerification(registry: Registry, p: ProxyStatus): ProxyStatus {
  const endpoint = registry.endpoint(p.proxyId);
  return endpoint ? { ...p, addressVerification: endpoint.verification, addressVerificationDetail: endpoint.verificationDetail } : p;
}

/**
 * One proxy's configuration: the snapshot it last ACKed on its current stream (what it runs),
 * and the one it would be sent now. Both come from memory: the ACKed one is the frozen object
 * that was sent, the current one is the builder's cached snapshot for the proxy's identity.
 */
export function proxyConfig(ctx: ProxyConfigContext, req: GetProxyConfigRequest): ProxyConfig {
  const proxyId = (req.proxyId ?? '').trim();
  const record = ctx.proxies.get(proxyId);
  if (!record) {
    throw new ControlPlaneError('WEFT_ERR_NOT_FOUND', `no proxy ${JSON.stringify(proxyId)} is connected or recently gone: \`weftctl proxy-status\` lists the proxies the control plane knows`);
  }
  ctx.snapshots.refresh();
  const current = ctx.snapshots.forProxy(record.node.service, record.node.namespace);
  return {
    proxy: withVerification(ctx.registry, proxyStatusOf(record)),
    acked: record.ackedSnapshot ? { version: record.ackedVersion, snapshot: record.ackedSnapshot, atMs: record.ackedAtMs } : null,
    current: { version: current.version, snapshot: current.snapshot, atMs: Date.now() },
  };
}
