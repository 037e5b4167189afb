import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AddressVerifier } from '../../src/registry/endpoint-verify';
import { API_VERSION } from '@weft/api';

/**
 * For tests that announce addresses nobody listens at (10.x): every address is taken as served by
 * its announcer. The real verifier dials; tests of verification itself use their own doubles.
 */
export const acceptAnyAddress: AddressVerifier = async () => ({ result: 'verified' });

export async function makeTempDir(prefix = 'weft-cp-test-'): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), prefix));
}

export async function removeDir(dir: string | undefined): Promise<void> {
  if (dir) await fs.rm(dir, { recursive: true, force: true });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function route(name: string, service: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: API_VERSION,
    kind: 'Route',
    metadata: { name, ...extra },
    spec: { service, rules: [{ timeout: '2s' }] },
  };
}

export function meshConfig(spec: Record<string, unknown>): Record<string, unknown> {
  return { apiVersion: API_VERSION, kind: 'MeshConfig', metadata: { name: 'default' }, spec };
}
