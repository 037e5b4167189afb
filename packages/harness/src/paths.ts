import * as fs from 'node:fs';
import * as path from 'node:path';

const MARKER = path.join('packages', 'cli', 'bin', 'weftctl.js');

/** The repository root, found from wherever this module was built to. */
export function repoRoot(): string {
  let dir = __dirname;
  for (;;) {
    if (fs.existsSync(path.join(dir, MARKER))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`cannot find ${MARKER} above ${__dirname}`);
    dir = parent;
  }
}

/** The programs the harness runs, as paths from the repository root. */
export const PROGRAMS = Object.freeze({
  controlPlane: path.join('packages', 'control-plane', 'bin', 'weft-control-plane.js'),
  sidecar: path.join('packages', 'sidecar', 'bin', 'weft-sidecar.js'),
  weftctl: MARKER,
  sampleService: path.join('deploy', 'examples', 'apps', 'sample-service.js'),
});

export function programPath(program: keyof typeof PROGRAMS): string {
  return path.join(repoRoot(), PROGRAMS[program]);
}
