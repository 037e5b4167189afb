/**
 * `npm run bench:control-plane [-- --quick] [-- --proxies 100,1000,3000] [-- --services 50,100,300]
 * [-- --rounds 3] [-- --workers 3] [-- --join-rate 200] [-- --profile] [-- --out FILE]`: how far one control plane goes.
 *
 * Per fleet size N: a fresh control plane (file store in a temporary directory) and N simulated
 * sidecars (sim-sidecar.ts) in a few worker processes. Measured: certificates signed per second
 * while all N join at once, the time for all N streams to get and ACK a first snapshot, control
 * plane RSS and heap per connected proxy over the idle baseline, the time from a Route apply
 * (the admin API call `weftctl apply` makes) to each proxy's ACK of it and the control plane's
 * CPU for that push, and the time for all N to come back after kill -9 and a restart on the same
 * port and store (jittered backoff). `--profile` records a CPU profile of the control plane during
 * the first push at N = 1,000. Every process started is stopped, also on failure and Ctrl-C.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { parseJoinToken } from '@weft/api';
import { Mesh } from '@weft/harness';
import { clockTicksPerSecond, ProcessSet } from '../bench/proc-stats';
import { describeMachine } from '../bench/tools';
import { BenchControlPlane } from './control-plane';
import { Fleet } from './fleet';
import type { SimSpec } from './messages';
import { readProfile } from './profile';
import { renderTable, verdicts, type ScaleResult } from './report';
import { nowMs } from './sim-sidecar';
import { spread } from './stats';
import { runBenchMain, type Cleanups } from '../bench/run-main';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    proxies: { type: 'string' },
    services: { type: 'string' },
    rounds: { type: 'string' },
    workers: { type: 'string' },
    profile: { type: 'boolean', default: false },
    'join-rate': { type: 'string', default: '200' },
    out: { type: 'string' },
  },
});
const sizes = (values.proxies ?? (values.quick ? '100,1000' : '100,1000,3000')).split(',').map(Number);
const serviceCounts = values.services?.split(',').map(Number);
const rounds = Number(values.rounds ?? (values.quick ? 2 : 3));
/** Streams opened per second while the fleet joins (all at once is what the restart measures). */
const joinRate = Number(values['join-rate']);
if (sizes.some((n) => !(n > 0)) || !(rounds > 0) || !(joinRate > 0)) throw new Error('--proxies takes positive numbers (100,1000), --rounds a positive number');
if (serviceCounts && serviceCounts.length !== 1 && serviceCounts.length !== sizes.length) throw new Error('--services takes one number, or one per --proxies entry');

/** 50-500 services: one per ten proxies within that range, unless --services says otherwise. */
function servicesFor(n: number, i: number): number {
  const asked = serviceCounts?.[serviceCounts.length === 1 ? 0 : i];
  return Math.min(n, asked ?? Math.min(500, Math.max(50, Math.round(n / 10))));
}

function workersFor(n: number): number {
  return values.workers ? Number(values.workers) : n <= 100 ? 2 : n <= 1_000 ? 3 : 4;
}

const t0 = Date.now();
const log = (text: string): void => void process.stderr.write(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s] ${text}\n`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const cleanups: Cleanups = [];
const profiles: string[] = [];

/** Streams lost by reason, most frequent first. */
function describeLost(lost: Readonly<Record<string, number>>): string {
  const entries = Object.entries(lost).sort((a, b) => b[1] - a[1]);
  return entries.length === 0 ? 'none' : entries.slice(0, 3).map(([reason, count]) => `${count} x ${reason}`).join('; ');
}

/** The open-files limit children inherit: the control plane holds one socket per proxy. */
function openFilesLimit(): number {
  const m = /^Max open files\s+(\d+)/m.exec(fs.readFileSync('/proc/self/limits', 'utf8'));
  return m ? Number(m[1]) : Infinity;
}

async function runScale(mesh: Mesh, n: number, services: number, profileDir: string | undefined): Promise<ScaleResult> {
  const ticksPerSecond = clockTicksPerSecond();
  const cp = new BenchControlPlane(mesh, profileDir ? { NODE_OPTIONS: `--require ${path.join(__dirname, '..', 'bench', 'profile-preload.js')}`, WEFT_BENCH_PROFILE_DIR: profileDir } : {});
  await cp.start();
  const names = Array.from({ length: services }, (_, i) => `svc-${i}`);
  const tokens = new Map<string, string>();
  for (const name of names) tokens.set(name, await cp.token(name));
  const rootFingerprint = parseJoinToken(tokens.get('svc-0') as string)?.rootFingerprint as string;
  await sleep(1_000);
  const idle = await cp.sample();
  const sims: SimSpec[] = Array.from({ length: n }, (_, i) => {
    const service = names[i % services] as string;
    return { proxyId: `bench-${n}-${i}`, service, namespace: 'default', token: tokens.get(service) as string, address: `127.0.0.1:${20_000 + i}` };
  });
  const workers = workersFor(n);
  log(`N = ${n}: control plane pid ${cp.pid} at ${cp.target}, ${services} services, ${workers} workers; idle RSS ${idle.rssKb} kB`);
  const fleet = await Fleet.start(workers, { target: cp.target, rootFingerprint, signConcurrency: 16 }, sims);
  const stopFleet = (): Promise<void> => fleet.stop();
  cleanups.push(stopFleet);
  try {
    const profileHere = profileDir !== undefined && n === (sizes.includes(1_000) ? 1_000 : Math.max(...sizes));
    if (profileHere) cp.toggleProfiler();
    const workerSet = new ProcessSet('workers', fleet.pids);
    let ticks = cp.cpuTicks();
    const workerTicks = workerSet.cpuTicks();
    const signed = await fleet.sign();
    const signCpuS = (cp.cpuTicks() - ticks) / ticksPerSecond;
    const fleetSignCpuS = (workerSet.cpuTicks() - workerTicks) / ticksPerSecond;
    if (profileHere) {
      cp.toggleProfiler();
      profiles.push(await readProfile(profileDir, cp.pid, `Control plane while ${n} sidecars join at once (Identity.Sign)`));
    }
    const signaturesPerSecond = n / ((signed.lastDoneAt - signed.firstSentAt) / 1000);
    log(`signed ${n - signed.failures.length} certificates in ${((signed.lastDoneAt - signed.firstSentAt) / 1000).toFixed(1)} s (${signaturesPerSecond.toFixed(0)}/s)${signed.failures.length ? `; failures: ${signed.failures.join('; ')}` : ''}`);

    const openedAt = nowMs();
    if (profileHere) cp.toggleProfiler();
    const firstAcks = await fleet.connect(joinRate);
    const joinMs = Math.max(...firstAcks) - openedAt;
    const settled = await fleet.settle(2_000, 120_000);
    if (profileHere) {
      cp.toggleProfiler();
      profiles.push(await readProfile(profileDir, cp.pid, `Control plane while ${n} streams open (${joinRate}/s) and settle`));
    }
    log(`all ${n} streams ACKed in ${(joinMs / 1000).toFixed(1)} s; settled with ${settled.connected} connected, snapshot ${settled.snapshotBytes} bytes; streams lost: ${describeLost(settled.lost)}`);
    const loaded = await cp.sample();

    const latencies: number[] = [];
    const cpuPerPush: number[] = [];
    const bytesPerChange: number[] = [];
    for (let round = 0; round < rounds; round++) {
      if (profileHere && round === 0) cp.toggleProfiler();
      const bytesBefore = (await fleet.activity()).bytesReceived;
      ticks = cp.cpuTicks();
      const appliedAt = nowMs();
      const revision = await cp.applyRoute('svc-0', 1_000 + round + 1);
      const acks = await fleet.ackedRevision(revision, 120_000);
      const cpu = (cp.cpuTicks() - ticks) / ticksPerSecond;
      if (profileHere && round === 0) {
        cp.toggleProfiler();
        profiles.push(await readProfile(profileDir, cp.pid, `Control plane during one route change pushed to ${n} proxies`));
      }
      bytesPerChange.push((await fleet.activity()).bytesReceived - bytesBefore);
      const ms = acks.map((at) => at - appliedAt);
      latencies.push(...ms);
      cpuPerPush.push(cpu);
      const s = spread(ms);
      log(`round ${round + 1}: revision ${revision} ACKed p50 ${s.p50.toFixed(0)} ms, p99 ${s.p99.toFixed(0)} ms, max ${s.max.toFixed(0)} ms${s.missing ? `, ${s.missing} missing` : ''}; control plane CPU ${cpu.toFixed(2)} s`);
      await fleet.settle(1_000, 60_000);
    }

    const beforeRestart = await fleet.activity();
    await fleet.markReconnect();
    const killedAt = nowMs();
    await cp.kill();
    await cp.start();
    const readyAt = nowMs();
    const back = await fleet.reconnected(120_000);
    const reconnectFromKill = spread(back.map((at) => at - killedAt));
    log(`restart: ready after ${((readyAt - killedAt) / 1000).toFixed(1)} s; all back ${(reconnectFromKill.max / 1000).toFixed(1)} s after the kill${reconnectFromKill.missing ? `, ${reconnectFromKill.missing} missing` : ''}`);

    return {
      proxies: n,
      services,
      workers,
      push: spread(latencies),
      rounds,
      cpuSecondsPerPush: cpuPerPush.reduce((a, b) => a + b, 0) / cpuPerPush.length,
      snapshotBytes: settled.snapshotBytes,
      bytesPerChange: bytesPerChange.reduce((a, b) => a + b, 0) / bytesPerChange.length,
      rssKbPerProxy: (loaded.rssKb - idle.rssKb) / n,
      heapKbPerProxy: (loaded.heapUsedBytes - idle.heapUsedBytes) / 1024 / n,
      signaturesPerSecond,
      cpuMsPerSignature: (signCpuS * 1000) / n,
      fleetCpuMsPerSignature: (fleetSignCpuS * 1000) / n,
      signFailures: signed.failures.length,
      joinMs,
      reconnectFromKill,
      restartReadyMs: readyAt - killedAt,
      reconnectAfterReady: back.map((at) => at - readyAt),
      lostStreams: Object.values(beforeRestart.lost).reduce((a, b) => a + b, 0),
      lostReason: describeLost(beforeRestart.lost),
    };
  } finally {
    cleanups.splice(cleanups.indexOf(stopFleet), 1);
    await fleet.stop();
    await cp.stop();
  }
}

async function run(): Promise<string> {
  const limit = openFilesLimit();
  const largest = Math.max(...sizes);
  if (largest + 1_000 > limit) throw new Error(`N = ${largest} needs about ${largest + 1_000} open files in the control plane; the limit is ${limit}: raise it (ulimit -n) or ask for fewer --proxies`);
  const mesh = new Mesh();
  cleanups.push(() => mesh.close(10_000));
  const profileDir = values.profile ? await mesh.tempDir('cp-profile') : undefined;
  const results: ScaleResult[] = [];
  for (const [i, n] of sizes.entries()) results.push(await runScale(mesh, n, servicesFor(n, i), profileDir));
  if (profileDir) {
    // The profiles live in the mesh's temporary directory, which close() removes: keep a copy.
    const keep = fs.mkdtempSync(path.join(os.tmpdir(), 'weft-cp-cpuprofiles-'));
    for (const f of fs.readdirSync(profileDir)) fs.copyFileSync(path.join(profileDir, f), path.join(keep, f));
    profiles.push(`Profiles kept in ${keep}.`);
  }
  return [
    `## Control plane scale (${new Date().toISOString().slice(0, 16)}Z${values.quick ? ', --quick' : ''})`,
    '',
    ...describeMachine()
      .filter((l) => !/^(nginx|wrk|h2load):/.test(l))
      .map((l) => `- ${l}`),
    `- one control plane (file store), simulated sidecars in worker processes on the same machine; open-files limit ${limit}`,
    '',
    renderTable(results),
    '',
    ...verdicts(results).map((l) => `- ${l}`),
    '',
    ...profiles,
  ].join('\n');
}

runBenchMain('bench:control-plane', run, cleanups, log, values.out);
