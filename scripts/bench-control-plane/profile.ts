/** The control plane's CPU profile over one push (profile-preload.ts writes it), summarized as Markdown. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { summarize, type CpuProfile, type Entry } from '../bench/cpuprofile';

/** Waits for `<dir>/<pid>.cpuprofile` (written when the profiler is stopped) and summarizes it. */
export async function readProfile(dir: string, pid: number, title: string): Promise<string> {
  const written = path.join(dir, `${pid}.cpuprofile`);
  for (let i = 0; i < 600 && !fs.existsSync(written); i++) await new Promise((r) => setTimeout(r, 100));
  // Renamed, so that the next profile of the same process does not overwrite it.
  const file = path.join(dir, `${pid}-${Date.now()}.cpuprofile`);
  fs.renameSync(written, file);
  const s = summarize(JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile);
  const busy = s.totalMs - s.idleMs;
  const table = (head: string, entries: readonly Entry[]): string[] => [
    `| ${head} | ms | % of busy |`,
    '| --- | ---: | ---: |',
    ...entries.slice(0, 12).map((e) => `| \`${e.name}\` | ${e.ms.toFixed(0)} | ${((100 * e.ms) / busy).toFixed(1)} |`),
  ];
  return [
    `#### ${title}`,
    '',
    `Sampled ${(s.totalMs / 1000).toFixed(2)} s, main thread busy ${(busy / 1000).toFixed(2)} s, garbage collection ${(s.gcMs / 1000).toFixed(2)} s. Profile: ${file}`,
    '',
    ...table('self time, function', s.selfByFunction),
    '',
    ...table("inclusive time, Weft's own functions", s.inclusiveWeft),
    '',
  ].join('\n');
}
