import { X509Certificate } from 'node:crypto';
import type { AuthorizationPolicy, PolicyResource, ProxyConfig, ProxyStatus, Route, ServicePolicy, Snapshot, WireServiceEndpoints } from '@weft/api';
import { relativeTime } from '../output/format';
import { deriveProxyStatus, type ProxySyncStatus } from '../proxy-sync-status';
import { renderResourceTable } from './resource-table';
import { renderServiceTable, sortServices } from './service-table';
import { proxyName } from './proxy-table';

/**
 * One snapshot in the words an operator wrote it: resources as stored, endpoints per service, the
 * trust bundle as root fingerprints. Every list is sorted, so two of them diff line by line.
 */
export interface ConfigDocument {
  readonly version: string;
  readonly storeRevision: number;
  readonly meshConfig: unknown;
  readonly routes: readonly Route[];
  readonly servicePolicies: readonly ServicePolicy[];
  /** Only the proxy's own service's: those are all it is sent. */
  readonly authorizationPolicies: readonly AuthorizationPolicy[];
  readonly endpoints: readonly WireServiceEndpoints[];
  readonly trustBundleFingerprints: readonly string[];
  readonly signingRootFingerprint: string;
}

/** What `weftctl proxy-config -o json` prints and `--file` reads back. */
export interface ProxyConfigDump {
  readonly proxy: {
    readonly name: string;
    readonly proxyId: string;
    readonly spiffeId: string;
    readonly address: string;
    readonly status: ProxySyncStatus;
    readonly connected: boolean;
    readonly ackedAt: string | null;
    readonly lastNack: { readonly version: string; readonly message: string; readonly at: string } | null;
  };
  readonly certificate: { readonly expiresAt: string | null; readonly serial: string; readonly rootFingerprint: string };
  /** The configuration in force: the snapshot it ACKed; null before its first ACK. */
  readonly config: ConfigDocument | null;
}

const iso = (ms: number): string | null => (ms ? new Date(ms).toISOString() : null);

function fingerprint(pem: string): string {
  try {
    return new X509Certificate(pem).fingerprint256.replace(/:/g, '').toLowerCase();
  } catch {
    return '(unreadable certificate)';
  }
}

const byName = (a: PolicyResource, b: PolicyResource): number => a.metadata.namespace.localeCompare(b.metadata.namespace) || a.metadata.name.localeCompare(b.metadata.name);

export function configDocument(version: string, s: Snapshot): ConfigDocument {
  const resources = s.resources.map((r) => JSON.parse(r.json) as PolicyResource).sort(byName);
  return {
    version,
    storeRevision: s.storeRevision,
    meshConfig: s.meshConfigJson ? (JSON.parse(s.meshConfigJson) as unknown) : {},
    routes: resources.filter((r): r is Route => r.kind === 'Route'),
    servicePolicies: resources.filter((r): r is ServicePolicy => r.kind === 'ServicePolicy'),
    authorizationPolicies: resources.filter((r): r is AuthorizationPolicy => r.kind === 'AuthorizationPolicy'),
    endpoints: sortServices(s.services).map((svc) => ({
      ...svc,
      endpoints: [...svc.endpoints].sort((a, b) => a.address.localeCompare(b.address) || a.proxyId.localeCompare(b.proxyId)).map((e) => ({ address: e.address, labels: e.labels, ready: e.ready, proxyId: e.proxyId })),
    })),
    trustBundleFingerprints: s.trustBundlePem.map(fingerprint),
    signingRootFingerprint: s.signingRootFingerprint ?? '',
  };
}

export function proxyConfigDump(pc: ProxyConfig): ProxyConfigDump {
  const p = pc.proxy as ProxyStatus;
  return {
    proxy: {
      name: proxyName(p),
      proxyId: p.proxyId,
      spiffeId: p.spiffeId,
      address: p.address,
      status: deriveProxyStatus(p),
      connected: p.connected,
      ackedAt: iso(p.ackedAtMs),
      lastNack: p.lastNackMessage ? { version: p.lastNackVersion, message: p.lastNackMessage, at: iso(p.lastNackAtMs) ?? '' } : null,
    },
    certificate: { expiresAt: iso(p.certificateExpiresAtMs), serial: p.certificateSerial ?? '', rootFingerprint: p.certificateRootFingerprint ?? '' },
    config: pc.acked?.snapshot ? configDocument(pc.acked.version, pc.acked.snapshot) : null,
  };
}

/** The text view: who, how it stands, its certificate, then its routes, policies and endpoints as `weftctl get` shows them. */
export function renderProxyConfig(d: ProxyConfigDump, nowMs: number): string {
  const c = d.config;
  const expires = d.certificate.expiresAt ? Date.parse(d.certificate.expiresAt) : 0;
  const head = [
    `PROXY:        ${d.proxy.name} ${d.proxy.proxyId} (${d.proxy.spiffeId}) at ${d.proxy.address || '-'}`,
    `STATUS:       ${d.proxy.status}${c ? `, runs version ${c.version}` : ', has ACKed no configuration'}${d.proxy.ackedAt ? ` (ACKed ${relativeTime(Date.parse(d.proxy.ackedAt), nowMs)})` : ''}`,
    ...(d.proxy.lastNack ? [`LAST NACK:    version ${d.proxy.lastNack.version} ${relativeTime(Date.parse(d.proxy.lastNack.at), nowMs)}: ${d.proxy.lastNack.message}`] : []),
    `CERTIFICATE:  serial ${d.certificate.serial || '-'}, expires ${d.certificate.expiresAt ?? '-'} (${relativeTime(expires, nowMs)}), root ${d.certificate.rootFingerprint.slice(0, 12) || '-'}`,
  ];
  if (!c) return `${head.join('\n')}\n`;
  head.push(`TRUST BUNDLE: ${c.trustBundleFingerprints.map((f) => f.slice(0, 12)).join(', ')} (new certificates from ${c.signingRootFingerprint.slice(0, 12) || '-'})`);
  const section = (title: string, body: string): string => `\n${title}\n${body || '(none)\n'}`;
  const table = (kind: PolicyResource['kind'], list: readonly PolicyResource[]): string => (list.length > 0 ? renderResourceTable(kind, list, '') : '');
  return (
    `${head.join('\n')}\n` +
    section('ROUTES', table('Route', c.routes)) +
    section('SERVICE POLICIES', table('ServicePolicy', c.servicePolicies)) +
    section('AUTHORIZATION POLICIES (its own service)', table('AuthorizationPolicy', c.authorizationPolicies)) +
    section('ENDPOINTS', c.endpoints.length > 0 ? renderServiceTable(c.endpoints, c.servicePolicies) : '')
  );
}
