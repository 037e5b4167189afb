import { effectiveMeshConfig, type Snapshot } from '@weft/api';
import type { CompiledConfig } from '../../src/config/compiled-config';
import { ConfigCompileError } from '../../src/config/compiled-config';
import type { SelfInfo } from '../../src/self';

/**
 * Stand-in for the data path's compiler (tests of the control side must not depend on it): accepts
 * any snapshot whose mesh config is JSON, and throws like the real one otherwise.
 */
export function stubCompile(snapshot: Snapshot, version: string, self: SelfInfo): CompiledConfig {
  let spec: unknown;
  try {
    spec = JSON.parse(snapshot.meshConfigJson || '{}');
  } catch {
    throw new ConfigCompileError('meshConfigJson is not JSON');
  }
  const stub = {
    version,
    storeRevision: snapshot.storeRevision,
    mesh: effectiveMeshConfig(undefined, self.trustDomain),
    trustBundlePem: snapshot.trustBundlePem,
    describe: () => ({ stub: true, spec, resources: snapshot.resources.length }),
  };
  return stub as unknown as CompiledConfig;
}

/** The proxy the control client tests run as. */
export const SELF: SelfInfo = Object.freeze({
  proxyId: 'proxy-1',
  service: 'orders',
  namespace: 'default',
  trustDomain: 'weft.local',
  spiffeId: 'spiffe://weft.local/ns/default/sa/orders',
  labels: { version: 'v1' },
});
