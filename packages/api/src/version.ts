import { readFileSync } from 'node:fs';
import { join } from 'node:path';

let cached: string | undefined;

/**
 * The Weft release, read once from @weft/api's package.json. It is the one source of the version
 * for every command (`--version`, `weftctl version`, the version a sidecar reports): lerna keeps
 * every package at the same version, so this one file speaks for all of them.
 */
export function weftVersion(): string {
  if (cached !== undefined) return cached;
  try {
    // dist/src -> the package root
    const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version?: unknown };
    cached = typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    cached = 'unknown';
  }
  return cached;
}
