#!/usr/bin/env node
'use strict';
// Installs (or, with --uninstall, removes) the iptables rules that send a workload's traffic
// through its Weft sidecar. See docs/capture.md.
require('../dist/src/capture/init-main.js').initMain(process.argv.slice(2));
