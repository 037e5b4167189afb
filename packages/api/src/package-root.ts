import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The nearest folder at or above `dir` that holds a package.json: the package a built file
 * belongs to. Files that read their package's own files (the version, a native addon) find them
 * from here rather than by a fixed number of `..`, because the same source runs both from tsc's
 * output (`dist/src/<folder>/`) and from the sidecar's bundle (`dist/bundle/`).
 */
export function packageRoot(dir: string): string {
  for (let at = dir; ; at = dirname(at)) {
    if (existsSync(join(at, 'package.json'))) return at;
    if (dirname(at) === at) throw new Error(`no package.json at or above ${dir}`);
  }
}
