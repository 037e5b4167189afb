#!/usr/bin/env node
'use strict';
// Builds the native addons at install time (`npm ci` runs a workspace package's own install
// script): SO_ORIGINAL_DST for transparent capture, and the memory calls an idle sidecar makes
// (malloc_trim, V8's last-resort collection). Against the headers of the node that runs this
// (--nodedir), so nothing is downloaded. A failure is not fatal: the sidecar then runs in
// explicit-proxy mode only, gives memory back without trimming malloc, and says both in its log;
// weft-init and the capture tests say so too.
const { spawnSync } = require('node:child_process');
const { existsSync } = require('node:fs');
const path = require('node:path');

if (process.platform !== 'linux') {
  console.log('weft: transparent capture is Linux only; not building the SO_ORIGINAL_DST addon');
  process.exit(0);
}
const nodedir = path.resolve(path.dirname(process.execPath), '..');
const gyp = findNodeGyp();
if (!gyp) {
  console.warn('weft: node-gyp not found; transparent capture will be unavailable (explicit-proxy mode still works)');
  process.exit(0);
}
if (!existsSync(path.join(nodedir, 'include', 'node', 'node_api.h'))) {
  console.warn(`weft: no Node.js headers under ${nodedir}/include/node; transparent capture will be unavailable`);
  process.exit(0);
}
const result = spawnSync(process.execPath, [gyp, 'rebuild', `--nodedir=${nodedir}`, '--directory', __dirname], { stdio: 'inherit' });
if (result.status !== 0) {
  console.warn('weft: the native addons did not build; transparent capture will be unavailable (explicit-proxy mode still works) and idle sidecars will not trim malloc');
}
process.exit(0);

function findNodeGyp() {
  const candidates = [];
  try {
    candidates.push(require.resolve('node-gyp/bin/node-gyp.js'));
  } catch {
    // not a dependency of the repository; npm's own is next
  }
  if (process.env.npm_config_node_gyp) candidates.push(process.env.npm_config_node_gyp);
  candidates.push(path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  return candidates.find((c) => existsSync(c));
}
