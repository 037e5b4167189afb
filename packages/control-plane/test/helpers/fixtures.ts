import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Logger } from '@weft/api';
import type { AddressVerifier } from '../../src/registry/endpoint-verify';
import { API_VERSION } from '@weft/api';

/** A logger that drops everything, so test output stays readable. */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
};

/**
 * For tests that announce addresses nobody listens at (10.x): every address is taken as served by
 * its announcer. The real verifier dials; tests of verification itself use their own doubles.
 */
export const acceptAnyAddress: AddressVerifier = async () => ({ result: 'verified' });

export interface LoggedLine {
  readonly level: string;
  readonly msg: string;
  readonly fields: Record<string, unknown>;
}

/** A logger that keeps every line, for tests of what the control plane tells the operator. */
export function recordingLogger(): { log: Logger; lines: LoggedLine[] } {
  const lines: LoggedLine[] = [];
  const make = (base: Record<string, unknown>): Logger => {
    const at = (level: string) => (msg: string, fields: Record<string, unknown> = {}) => void lines.push({ level, msg, fields: { ...base, ...fields } });
    return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: (fields) => make({ ...base, ...fields }) };
  };
  return { log: make({}), lines };
}

export async function makeTempDir(prefix = 'weft-cp-test-'): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), prefix));
}

export async function removeDir(dir: string | undefined): Promise<void> {
  if (dir) await fs.rm(dir, { recursive: true, force: true });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls until `check` returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(check: () => T | undefined | Promise<T | undefined>, timeoutMs = 3000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}`);
    await sleep(20);
  }
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
