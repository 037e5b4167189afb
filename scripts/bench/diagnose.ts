/**
 * `npm run bench:diagnose [-- --rate 500 --seconds 10 --heap --env K=V --policy F ...]`: what a Weft pair
 * holds in memory and why its latency tail is long. Starts the benchmark's Weft pair (same
 * defaults) with diagnose-preload.ts in both sidecars, and has each write its memory breakdown,
 * GC pauses, event-loop stalls and socket counts at four points: ready (before any load), idle
 * during and after a warm-up (wrk 4 s), after an open-loop run at --rate, and after 2 s of idle again. The
 * open-loop run is in this process so each slow request's due time can be set against the
 * sidecars' GC pauses and stalls (all on the wall clock), and after --idle-seconds of idle (past
 * the sidecars' idle memory release, 5 s by default). Prints one JSON report to stdout.
 * `--env K=V` adds to the sidecars' environment (MALLOC_ARENA_MAX=2, NODE_OPTIONS flags);
 * `--policy FILE` is applied with weftctl before any load (a ServicePolicy for `web`, say);
 * `--sidecar-arg=--memory-release-idle=0s` adds a flag to every sidecar; `--ready-idle-seconds N`
 * adds a mark N s after the ready one, before any load.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { openLoop } from './open-loop';
import { startWeftPair } from './pair-weft';
import { wrkMax } from './runners';
import { ensureTools } from './tools';
import { FILES, startUpstreams } from './upstreams';

const { values } = parseArgs({
  options: { rate: { type: 'string', default: '500' }, seconds: { type: 'string', default: '10' }, heap: { type: 'boolean', default: false }, env: { type: 'string', multiple: true, default: [] }, 'slow-ms': { type: 'string', default: '20' }, policy: { type: 'string' }, 'sidecar-arg': { type: 'string', multiple: true, default: [] }, 'idle-seconds': { type: 'string', default: '10' }, 'ready-idle-seconds': { type: 'string', default: '0' }, keep: { type: 'boolean', default: false } },
});
const log = (text: string): void => void process.stderr.write(`${text}\n`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  ensureTools(log);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weft-diagnose-'));
  const diagDir = path.join(dir, 'diag');
  fs.mkdirSync(diagDir);
  const upstreams = await startUpstreams(dir);
  let weft: Awaited<ReturnType<typeof startWeftPair>> | undefined;
  try {
    const extra: Record<string, string> = {};
    for (const kv of values.env ?? []) extra[kv.slice(0, kv.indexOf('='))] = kv.slice(kv.indexOf('=') + 1);
    const preload = `--require ${path.join(__dirname, 'diagnose-preload.js')}`;
    const env = { ...extra, NODE_OPTIONS: [preload, extra['NODE_OPTIONS'] ?? ''].join(' ').trim(), WEFT_BENCH_DIAG_DIR: diagDir, ...(values.heap ? { WEFT_BENCH_DIAG_HEAP: '1' } : {}) };
    weft = await startWeftPair(upstreams, { sidecarEnv: env, sidecarArgs: values['sidecar-arg'] ?? [] });
    if (values.policy) {
      const applied = await weft.mesh.weftctl(['apply', '-f', values.policy]);
      if (applied.code !== 0) throw new Error(`weftctl apply -f ${values.policy} failed: ${applied.stderr.trim()}`);
    }
    const target = weft.target('http');
    const proxies = weft.proxies('http');
    const pids = { client: proxies.client?.pids[0] ?? -1, server: proxies.server?.pids[0] ?? -1 };
    const marks: string[] = [];
    const mark = async (name: string): Promise<void> => {
      marks.push(name);
      for (const pid of Object.values(pids)) process.kill(pid, 'SIGUSR2');
      const n = marks.length;
      for (let i = 0; i < 300 && !Object.values(pids).every((pid) => fs.existsSync(path.join(diagDir, `${pid}-${n}.json`))); i++) await sleep(100);
    };
    await sleep(2000);
    await mark('ready');
    // Start-up is a burst too: with --ready-idle-seconds, a mark once the sidecars have been idle that long.
    const readyIdle = Number(values['ready-idle-seconds']);
    if (readyIdle > 0) {
      await sleep(readyIdle * 1000);
      await mark(`ready, idle ${readyIdle} s`);
    }
    const wrk = wrkMax(target, FILES['1k'].path, 4);
    await sleep(3000);
    await mark('during wrk -c32');
    await wrk;
    await sleep(1000);
    await mark('idle after warm-up');
    const rate = Number(values.rate);
    const slowMs = Number(values['slow-ms']);
    const slow: { at: number; ms: number }[] = [];
    const latencies: number[] = [];
    const figures = await openLoop({
      port: target.port, host: target.host, path: FILES['1k'].path, rate, seconds: Number(values.seconds),
      onAnswer: (dueAt, ms) => {
        latencies.push(ms);
        if (ms > slowMs) slow.push({ at: performance.timeOrigin + dueAt, ms });
      },
    });
    await mark(`after ${rate} req/s`);
    await sleep(2000);
    await mark('idle again');
    const idleSeconds = Number(values['idle-seconds']);
    if (idleSeconds > 2) {
      await sleep((idleSeconds - 2) * 1000);
      await mark(`idle ${idleSeconds} s later`);
    }
    const reports: Record<string, unknown[]> = {};
    for (const [role, pid] of Object.entries(pids)) reports[role] = marks.map((m, i) => ({ mark: m, ...JSON.parse(fs.readFileSync(path.join(diagDir, `${pid}-${i + 1}.json`), 'utf8')) }));
    // The sidecars' own account of each idle release (logged at debug: `--env WEFT_LOG_LEVEL=debug`).
    const released = (proc: { lines(): readonly { json?: Record<string, unknown> }[] }): unknown[] => proc.lines().map((l) => l.json).filter((j) => j?.['msg'] === 'idle: memory given back');
    const releases = { client: released(weft.sidecars.client.proc), server: released(weft.sidecars.http.proc) };
    process.stdout.write(`${JSON.stringify({ figures, slow, reports, releases }, null, 1)}\n`);
    if (values.keep || values.heap) {
      const keep = fs.mkdtempSync(path.join(os.tmpdir(), 'weft-diag-kept-'));
      for (const f of fs.readdirSync(diagDir)) fs.copyFileSync(path.join(diagDir, f), path.join(keep, f));
      log(`kept in ${keep} (client ${pids.client}, server ${pids.server})`);
    }
  } finally {
    await weft?.stop();
    await upstreams.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  log(`bench:diagnose failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exitCode = 1;
});
