import type { AdminApi } from '../admin-client';
import type { PolicyResource } from '@weft/api';
import { serviceKey, type LiveState } from './analysis-input';

const KINDS = ['Route', 'ServicePolicy', 'AuthorizationPolicy'] as const;

/**
 * What the control plane holds now: every Route, ServicePolicy and AuthorizationPolicy in every
 * namespace, and the labels of every instance it knows (registered endpoints and connected
 * proxies, so that one not yet verified still counts).
 */
export async function fetchLiveState(api: AdminApi): Promise<LiveState> {
  const resources: PolicyResource[] = [];
  for (const kind of KINDS) {
    const { itemsJson } = await api.get({ kind, namespace: '', name: '' });
    resources.push(...itemsJson.map((json) => JSON.parse(json) as PolicyResource));
  }
  const instances = new Map<string, Readonly<Record<string, string>>[]>();
  const add = (namespace: string, service: string, labels: Readonly<Record<string, string>> | undefined): void => {
    const key = serviceKey(namespace, service);
    instances.set(key, [...(instances.get(key) ?? []), labels ?? {}]);
  };
  const proxies = (await api.listProxies()).proxies;
  const listed = new Set<string>();
  for (const s of (await api.listServices()).services) {
    for (const e of s.endpoints) {
      listed.add(e.proxyId);
      add(s.namespace, s.service, e.labels);
    }
  }
  for (const p of proxies) if (!listed.has(p.proxyId)) add(p.namespace, p.service, p.labels);
  return { resources, instances };
}
