import { API_VERSION, type Snapshot, type WireServiceEndpoints } from '@weft/api';
import type { SelfInfo } from '../../src/self';

export const SELF: SelfInfo = Object.freeze({
  proxyId: 'frontend-1',
  service: 'frontend',
  namespace: 'default',
  trustDomain: 'weft.local',
  spiffeId: 'spiffe://weft.local/ns/default/sa/frontend',
  labels: {},
});

export function doc(kind: string, name: string, spec: unknown, namespace = 'default'): { kind: string; name: string; namespace: string; json: string } {
  return { kind, name, namespace, json: JSON.stringify({ apiVersion: API_VERSION, kind, metadata: { name, namespace }, spec }) };
}

export function service(name: string, endpoints: { address: string; labels?: Record<string, string>; ready?: boolean; appPort?: number }[], namespace = 'default'): WireServiceEndpoints {
  return {
    service: name,
    namespace,
    spiffeId: `spiffe://weft.local/ns/${namespace}/sa/${name}`,
    endpoints: endpoints.map((e) => ({ address: e.address, labels: e.labels ?? {}, ready: e.ready ?? true, proxyId: `p-${e.address}`, ...(e.appPort === undefined ? {} : { appPort: e.appPort }) })),
  };
}

export function snapshot(parts: Partial<Snapshot> = {}): Snapshot {
  return { meshConfigJson: '{}', resources: [], services: [], trustBundlePem: ['ROOT'], storeRevision: 7, ...parts };
}
