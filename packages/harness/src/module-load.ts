import * as path from 'node:path';
import { repoRoot } from './paths';
import { runNode } from './run-node';

/** What requiring one module cost a fresh Node.js process. */
export interface ModuleLoad {
  /** RSS of the process before and after the require, in bytes. */
  readonly rssBefore: number;
  readonly rssAfter: number;
  readonly heapUsed: number;
  /** Every file the require loaded (absolute paths, as in require.cache). */
  readonly files: readonly string[];
  /** Loaded files per package (`undici`, `@grpc/grpc-js`, `@weft/api`), most first. */
  readonly byPackage: ReadonlyMap<string, number>;
}

/**
 * Requires `modulePath` in a child process that loads nothing else first, and reports the files
 * it pulled in and the RSS it cost. `nodeArgs` go before the probe script (V8 flags to compare).
 * The child only loads the module: an entry module that starts a server when required is not
 * something to measure this way.
 */
export async function measureModuleLoad(modulePath: string, options: { nodeArgs?: readonly string[] } = {}): Promise<ModuleLoad> {
  const probe = path.join(__dirname, 'module-load-probe.js');
  const result = await runNode(probe, [path.resolve(modulePath)], { nodeArgs: options.nodeArgs ?? [] });
  if (result.code !== 0) throw new Error(`requiring ${modulePath} failed (exit ${result.code}):\n${result.stderr}`);
  const parsed = JSON.parse(result.stdout) as Omit<ModuleLoad, 'byPackage'>;
  const counts = new Map<string, number>();
  for (const file of parsed.files) {
    const name = packageOf(file);
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return { ...parsed, byPackage: new Map([...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))) };
}

/** The npm package a loaded file belongs to; the repository's own packages as `@weft/<dir>`. */
export function packageOf(file: string): string {
  const parts = file.split(path.sep);
  const nm = parts.lastIndexOf('node_modules');
  if (nm >= 0) {
    const first = parts[nm + 1] ?? '';
    return first.startsWith('@') ? `${first}/${parts[nm + 2] ?? ''}` : first;
  }
  const relative = path.relative(repoRoot(), file).split(path.sep);
  if (relative[0] === 'packages' && relative[1]) return `@weft/${relative[1]}`;
  return relative[0] === '..' ? file : relative.join('/');
}
