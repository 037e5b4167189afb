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

/** Writes a profile whole, so that a reader polling for the file never sees half of it. */
function write(profileDir: string, extension: string, profile: object): void {
  const file = path.join(profileDir, `${process.pid}.${extension}`);
  fs.writeFileSync(`${file}.tmp`, JSON.stringify(profile));
  fs.renameSync(`${file}.tmp`, file);
}

const report = (err: Error | null): boolean => {
  if (err) process.stderr.write(`profile-preload: ${err.message}\n`);
  return err === null;
};

if (dir) {
  const session = new Session();
  session.connect();
  // One sample per 1 KiB allocated on average (V8's default is 32 KiB): enough samples per
  // request type in a few seconds of load.
  const sampling = { samplingInterval: 1024, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true };
  const start = heap
    ? (): void => session.post('HeapProfiler.enable', () => session.post('HeapProfiler.startSampling', sampling))
    : (): void => session.post('Profiler.enable', () => session.post('Profiler.start'));
  const stop = heap
    ? (): void => session.post('HeapProfiler.stopSampling', (err, result) => void (report(err) && write(dir, 'heapprofile', result.profile)))
    : (): void => session.post('Profiler.stop', (err, result) => void (report(err) && write(dir, 'cpuprofile', result.profile)));
  let running = false;
  process.on('SIGUSR2', () => {
    running = !running;
    if (running) start();
    else stop();
  });
}
