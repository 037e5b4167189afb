/**
 * Preloaded into the sidecars by `npm run bench:profile` (NODE_OPTIONS=--require ..., because
 * Node refuses --cpu-prof in NODE_OPTIONS): the first SIGUSR2 starts V8's CPU profiler, the
 * second stops it and writes `<WEFT_BENCH_PROFILE_DIR>/<pid>.cpuprofile`, so the profile covers
 * the load window exactly. The in-thread inspector session answers synchronously.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Session } from 'node:inspector';

const dir = process.env['WEFT_BENCH_PROFILE_DIR'];
if (dir) {
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
