import { readFileSync } from 'node:fs';
import { join } from 'node:path';

let cached: string | undefined;

/** The sidecar's package version, reported to the control plane in the node (read once). */
export function proxyVersion(): string {
  if (cached !== undefined) return cached;
  try {
    // dist/src/control -> package root
    const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as { version?: unknown };
    cached = typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    cached = 'unknown';
  }
  return cached;
}
