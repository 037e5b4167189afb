/**
 * Preloaded into the sidecars by `npm run bench:profile` (NODE_OPTIONS=--require ..., because
 * Node refuses --cpu-prof in NODE_OPTIONS): the first SIGUSR2 starts V8's CPU profiler, the
 * second stops it and writes `<WEFT_BENCH_PROFILE_DIR>/<pid>.cpuprofile`, so the profile covers
 * the load window exactly. The in-thread inspector session answers synchronously. With
 * `WEFT_BENCH_PROFILE_KIND=heap` it runs V8's sampling heap profiler instead, keeping the samples
 * of objects that garbage collection has already freed, so the `.heapprofile` counts every byte
 * allocated in the window (what a request costs the collector), not only what is still alive.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Session } from 'node:inspector';

const dir = process.env['WEFT_BENCH_PROFILE_DIR'];
const heap = process.env['WEFT_BENCH_PROFILE_KIND'] === 'heap';
if (dir && heap) {
  const session = new Session();
  session.connect();
  let running = false;
  process.on('SIGUSR2', () => {
    if (!running) {
      running = true;
      // One sample per 1 KiB allocated on average (V8's default is 32 KiB): enough samples per
      // request type in a few seconds of load.
      const start = { samplingInterval: 1024, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true };
      session.post('HeapProfiler.enable', () => session.post('HeapProfiler.startSampling', start));
      return;
    }
    running = false;
    session.post('HeapProfiler.stopSampling', (err, result) => {
      if (err) return void process.stderr.write(`profile-preload: ${err.message}\n`);
      const file = path.join(dir, `${process.pid}.heapprofile`);
      fs.writeFileSync(`${file}.tmp`, JSON.stringify(result.profile));
      fs.renameSync(`${file}.tmp`, file);
    });
  });
} else if (dir) {
  const session = new Session();
  session.connect();
  let running = false;
  process.on('SIGUSR2', () => {
    if (!running) {
      running = true;
      session.post('Profiler.enable', () => session.post('Profiler.start'));
      return;
    }
    running = false;
    session.post('Profiler.stop', (err, result) => {
      if (err) return void process.stderr.write(`profile-preload: ${err.message}\n`);
      const file = path.join(dir, `${process.pid}.cpuprofile`);
      fs.writeFileSync(`${file}.tmp`, JSON.stringify(result.profile));
      fs.renameSync(`${file}.tmp`, file);
    });
  });
}
