/**
 * `npm run bench:profile [-- --seconds 20] [-- --out FILE] [-- --sampling P] [-- --collector counting] [-- --heap] [-- --rate R]`: where a Weft pair's CPU goes per
 * request. Starts the benchmark's Weft pair (the same defaults) with V8's CPU profiler ready in
 * both sidecars (profile-preload.ts), warms up, profiles exactly while wrk (-t1 -c32) drives
 * 1 KiB GETs through it, and prints, for each side, the top self-time functions and files and the
 * top files by inclusive time, divided by the requests served. The `.cpuprofile` files are kept
 * (open them in Chrome DevTools or speedscope for flame graphs). With `--heap`, V8's sampling heap
 * profiler runs instead, and the report gives the bytes each function allocates per request. With
 * `--rate`, the open-loop generator sends at that fixed rate instead of wrk's closed loop: at a low
 * rate every request wakes each sidecar on its own, which is where issue 9's CPU bar is measured.
 * With `--protocol grpc`, gRPC unary calls (h2load over h2c, 64-byte messages; at `--rate` too)
 * through the pair's gRPC route instead of 1 KiB GETs.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { renderSummary, summarize, type CpuProfile } from './cpuprofile';
import { startWeftPair } from './pair-weft';
import { clockTicksPerSecond, cpuSecondsPer1000, ProcessSet } from './proc-stats';
import { renderHeapSummary, summarizeHeap, type HeapProfile } from './heapprofile';
import { SourceFrames, withSourceFrames, withSourceTree } from './source-frames';
import { h2loadGrpc, openLoopAt, writeGrpcBody, wrkMax, type Target } from './runners';
import { ensureTools } from './tools';
import { FILES, startUpstreams } from './upstreams';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '20' }, out: { type: 'string' }, sampling: { type: 'string' }, heap: { type: 'boolean', default: false }, rate: { type: 'string' }, collector: { type: 'string', default: 'collecting' }, protocol: { type: 'string', default: 'http' } } });
if (values.protocol !== 'http' && values.protocol !== 'grpc') throw new Error('--protocol: http (1 KiB GETs) or grpc (unary calls over h2c)');
const protocol = values.protocol;
if (values.collector !== 'collecting' && values.collector !== 'counting') throw new Error('--collector: collecting (the harness receiver) or counting (reads and counts only; see bench:floor)');
const countingCollector = values.collector === 'counting';
const rate = values.rate === undefined ? undefined : Number(values.rate);
const seconds = Math.round(Number(values.seconds));
const log = (text: string): void => void process.stderr.write(`${text}\n`);

async function main(): Promise<void> {
  ensureTools(log);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weft-profile-'));
  const profDir = path.join(dir, 'profiles');
  const upstreams = await startUpstreams(dir);
  let weft: Awaited<ReturnType<typeof startWeftPair>> | undefined;
  try {
    fs.mkdirSync(profDir);
    const preload = path.join(__dirname, 'profile-preload.js');
    const sidecarEnv = { NODE_OPTIONS: `--require ${preload}`, WEFT_BENCH_PROFILE_DIR: profDir, WEFT_BENCH_PROFILE_KIND: values.heap ? 'heap' : 'cpu' };
    weft = await startWeftPair(upstreams, values.sampling === undefined ? { sidecarEnv, countingCollector } : { sidecarEnv, countingCollector, samplingPercent: Number(values.sampling) });
    const target = weft.target(protocol);
    const grpcBody = writeGrpcBody(dir);
    const load = (t: Target, s: number, r: number | undefined): ReturnType<typeof wrkMax> => {
      if (protocol === 'grpc') return h2loadGrpc(t, grpcBody, s, path.join(dir, 'h2load.log'), r);
      return r === undefined ? wrkMax(t, FILES['1k'].path, s) : openLoopAt(t, FILES['1k'].path, r, s);
    };
    await load(target, 2, undefined); // warm-up, outside the profile
    await new Promise((r) => setTimeout(r, 500));
    const proxies = weft.proxies(protocol);
    const roles = new Map<number, string>([
      [proxies.client?.pids[0] ?? -1, protocol === 'grpc' ? 'client sidecar (outbound: h2load -> sidecar -> h2 over mTLS)' : 'client sidecar (outbound: wrk -> sidecar -> mTLS)'],
      [proxies.server?.pids[0] ?? -1, protocol === 'grpc' ? 'server sidecar (inbound: h2 over mTLS -> sidecar -> h2c grpc-js echo)' : 'server sidecar (inbound: mTLS -> sidecar -> nginx)'],
    ]);
    const signalAll = (): void => void [...roles.keys()].forEach((pid) => process.kill(pid, 'SIGUSR2'));
    const sets = new Map([...roles.keys()].map((pid) => [pid, new ProcessSet(String(pid), [pid])]));
    const ticksBefore = new Map([...sets].map(([pid, set]) => [pid, set.cpuTicks()]));
    signalAll(); // start profiling
    const figures = await load(target, seconds, rate);
    signalAll(); // stop and write
    const cpuUs = new Map([...sets].map(([pid, set]) => [pid, (cpuSecondsPer1000(ticksBefore.get(pid) ?? 0, set.cpuTicks(), clockTicksPerSecond(), figures.requests) * 1e6) / 1000]));
    log(`${rate === undefined ? 'wrk' : `open loop at ${rate} req/s`}: ${figures.requests} requests, ${figures.rate.toFixed(0)} req/s, p99 ${figures.p99.toFixed(1)} ms`);
    const sections: string[] = [];
    const frames = new SourceFrames(); // the bundle's frames, read on its TypeScript sources (source-frames.ts)
    for (const [pid, role] of roles) {
      const file = path.join(profDir, `${pid}.${values.heap ? 'heapprofile' : 'cpuprofile'}`);
      for (let i = 0; i < 100 && !fs.existsSync(file); i++) await new Promise((r) => setTimeout(r, 100));
      if (values.heap) {
        const heap = JSON.parse(fs.readFileSync(file, 'utf8')) as HeapProfile;
        sections.push(renderHeapSummary(role, summarizeHeap({ head: withSourceTree(heap.head, frames) }), figures.requests));
        continue;
      }
      const profile = withSourceFrames(JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile, frames);
      sections.push(renderSummary(role, summarize(profile), figures.requests, cpuUs.get(pid) ?? NaN));
    }
    const keep = fs.mkdtempSync(path.join(os.tmpdir(), 'weft-cpuprofiles-'));
    for (const f of fs.readdirSync(profDir)) fs.copyFileSync(path.join(profDir, f), path.join(keep, f));
    const how = protocol === 'grpc' ? `h2load ${rate === undefined ? '-c4 -m16' : `at ${rate} req/s`} for ${seconds} s, gRPC unary` : `${rate === undefined ? `wrk -t1 -c32 -d${seconds}s` : `open loop at ${rate} req/s for ${seconds} s`}, 1 KiB GETs`;
    const markdown = [`${how}: ${figures.rate.toFixed(0)} req/s, p50 ${figures.p50.toFixed(2)} ms, p99 ${figures.p99.toFixed(2)} ms`, '', ...sections].join('\n');
    process.stdout.write(`${markdown}\nprofiles kept in ${keep}\n`);
    if (values.out) fs.writeFileSync(values.out, markdown);
  } finally {
    await weft?.stop();
    await upstreams.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  log(`bench:profile failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exitCode = 1;
});
