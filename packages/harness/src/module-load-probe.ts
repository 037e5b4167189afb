/**
 * Run as `node module-load-probe.js MODULE`: requires MODULE in a fresh process and prints one
 * JSON line saying what that cost (RSS before and after, heap used, every file in require.cache).
 * Nothing else is loaded first, so the list is MODULE's own module graph. The parent side is
 * `measureModuleLoad` in module-load.ts.
 */
const target = process.argv[2];
if (!target) {
  process.stderr.write('usage: node module-load-probe.js MODULE\n');
  process.exit(2);
}
const rssBefore = process.memoryUsage.rss();
const probeFile = __filename;
require(target);
const after = process.memoryUsage();
const files = Object.keys(require.cache).filter((file) => file !== probeFile);
process.stdout.write(`${JSON.stringify({ rssBefore, rssAfter: after.rss, heapUsed: after.heapUsed, files })}\n`);
