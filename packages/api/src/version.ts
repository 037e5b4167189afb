import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from './package-root';

let cached: string | undefined;

/**
 * The Weft release, read once from the package.json of the package this file was built into. It
 * is the one source of the version for every command (`--version`, `weftctl version`, the version
 * a sidecar reports): lerna keeps every package at the same version, so any of them speaks for all.
 */
export function weftVersion(): string {
  if (cached !== undefined) return cached;
  try {
    // @weft/api's package.json from tsc's output; the sidecar's bundle reads @weft/sidecar's,
    // which carries the same version.
    const pkg = JSON.parse(readFileSync(join(packageRoot(__dirname), 'package.json'), 'utf8')) as { version?: unknown };
    cached = typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    cached = 'unknown';
  }
  return cached;
}
