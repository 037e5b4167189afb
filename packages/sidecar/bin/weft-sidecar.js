#!/usr/bin/env -S node --max-semi-space-size=2
'use strict';
// --max-semi-space-size=2 (MB): V8 grows the young generation to 2 x 16 MB by default; a proxy's
// garbage dies young, so 2 MB semi-spaces cost no measurable CPU and keep 5 MB (idle) to 15 MB
// (loaded) out of RSS (docs/performance.md, "Sidecar memory"). Launchers that run
// `node weft-sidecar.js` pass the shebang's flags themselves (the systemd unit, @weft/harness).
require('../dist/src/main.js').main(process.argv.slice(2));
