import { effectiveMeshConfig, type Logger, type Snapshot } from '@weft/api';
import type { CompiledConfig } from '../../src/config/compiled-config';
import { ConfigCompileError } from '../../src/config/compiled-config';
import type { SelfInfo } from '../../src/self';

/** A logger that keeps lines in memory (and prints them with WEFT_TEST_LOGS=1). */
export function memoryLogger(lines: { level: string; msg: string; fields: Record<string, unknown> }[] = []): Logger & { lines: typeof lines } {
  const make = (base: Record<string, unknown>): Logger => {
    const write = (level: string) => (msg: string, fields: Record<string, unknown> = {}): void => {
      lines.push({ level, msg, fields: { ...base, ...fields } });
      if (process.env['WEFT_TEST_LOGS']) process.stderr.write(`${level} ${msg} ${JSON.stringify(fields)}\n`);
    };
    return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error'), child: (f) => make({ ...base, ...f }) };
  };
  return Object.assign(make({}), { lines });
}

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

export async function waitFor(what: string, condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
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
