/**
 * `npm run bench:floor [-- --slots 4 --seconds 6 --rate 500 --sampling 0,100 --collector counting --raw --nginx --against DIR --concurrent --route-timeout 15s]`: the Weft pair next
 * to the floor (floor-proxy.ts: the same building blocks with nothing on top), in the same run, slot by slot
 * interleaved, 1 KiB GETs through each against the same nginx upstream: closed loop with wrk -t1
 * -c32, or with `--rate` at that fixed rate from the open-loop generator (the CPU bar of issue 9 is
 * set at 500 req/s, where per-request costs that batching hides at full load show). With
 * `--sampling`, one Weft pair per tracing sampling percent instead of one at the default (1%), to
 * price tracing in the same run; `--collector counting` has them export to a collector that reads
 * and counts spans (`startOtlpSink`) instead of the harness's receiver, which decodes and keeps
 * every span in this process, on the same two cores (a fifth of a core at 100% sampling). With `--raw`, also the raw floor (floor-raw-proxy.ts: node:net and
 * node:tls with a minimal codec of its own instead of node:http and undici), to price those two;
 * with `--nginx`, also the nginx pair (pair-nginx.ts), so that every figure of issue 9's bar is in
 * one run. `--against-env K=V` (repeatable) runs the --against pair's sidecars with K=V in their
 * environment (`--against . --against-env MALLOC_ARENA_MAX=2` prices a process setting on this build). Both are off by default, so runs without them stay comparable. With `--against DIR`, a
 * second Weft pair whose sidecars run another build (DIR: a built checkout, e.g. a `git worktree`
 * of the commit before a change) next to this one's, so a change on the request path is measured
 * against its baseline in one run, on the same machine state. With `--concurrent` (only with
 * `--against`), the two Weft pairs are loaded at the same time in each slot, each by its own
 * generator, so both see the same host: on a shared machine a slot's CPU per request moves by ±30%
 * with what else runs, and taking turns lets that land on one build and not the other; side by side
 * the per-slot ratio of the two spread ±5-10% (docs/performance.md, "One bundled file"). Between
 * runs the summary still moves by more than its standard error: one build against itself gave
 * 0.957× ± 0.008 and 1.007× ± 0.015, so read differences under about 4% as noise. The floor keeps
 * its own turn. With `--route-timeout 15s`, every Weft pair gets a Route for the HTTP service whose
 * rule has that timeout, so that every request takes the timeout layer's deadline path (the
 * defaults have no timeout; off by default, like the options above). Prints, per slot and as
 * medians, throughput and CPU microseconds per request of each proxy process, and peak RSS.
 * What Weft costs above the floor is what its own layers cost; the floor is what Node.js, TLS and
 * the kernel cost for this hop on this machine. With `--protocol grpc`, gRPC unary calls (64-byte
 * messages, h2load over h2c, closed loop or at `--rate`, as the full bench sends them) through the
 * Weft pairs' gRPC route (and the nginx pair's with `--nginx`) instead; the floor pairs speak
 * HTTP/1.1 only, so they sit out and ratios are to the first pair listed.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { findFreePorts, ProcessGroup } from '@weft/harness';
import { makePairCerts } from './certs';
import { startNginxPair } from './pair-nginx';
import { startWeftPair } from './pair-weft';
import { clockTicksPerSecond, cpuSecondsPer1000, ProcessSet, RssSampler } from './proc-stats';
import { pairedRatio, renderPairedRatio } from './paired-ratio';
import { h2loadGrpc, openLoopAt, writeGrpcBody, wrkMax, type Target } from './runners';
import { describeMachine, ensureTools } from './tools';
import { FILES, startUpstreams } from './upstreams';

const { values } = parseArgs({
  // prettier-ignore
  options: { slots: { type: 'string', default: '4' }, seconds: { type: 'string', default: '6' }, rate: { type: 'string' }, sampling: { type: 'string' },
    raw: { type: 'boolean', default: false }, collector: { type: 'string', default: 'collecting' }, nginx: { type: 'boolean', default: false }, against: { type: 'string' },
    'against-env': { type: 'string', multiple: true, default: [] }, 'route-timeout': { type: 'string' }, concurrent: { type: 'boolean', default: false }, protocol: { type: 'string', default: 'http' } },
});
if (values.protocol !== 'http' && values.protocol !== 'grpc') throw new Error('--protocol: http (1 KiB GETs, the default) or grpc (unary calls over h2c)');
const protocol = values.protocol;
const slots = Math.max(1, Math.round(Number(values.slots)));
const seconds = Math.max(1, Math.round(Number(values.seconds)));
const rate = values.rate === undefined ? undefined : Math.max(1, Math.round(Number(values.rate)));
if (values.collector !== 'collecting' && values.collector !== 'counting') throw new Error('--collector: collecting (the harness receiver, decodes and keeps every span) or counting (reads and counts only)');
const countingCollector = values.collector === 'counting';
/** Tracing sampling percent of each Weft pair; undefined: the default users get. */
const samplings: readonly (number | undefined)[] = values.sampling === undefined ? [undefined] : values.sampling.split(',').map((v) => Math.min(100, Math.max(0, Number(v))));
/** Every Weft pair with a Route whose rule has this timeout; the defaults have none. */
const routeTimeout = values['route-timeout'] === undefined ? {} : { routeTimeout: values['route-timeout'] };
const log = (text: string): void => void process.stderr.write(`${text}\n`);
/** The other build's sidecar program, when comparing two builds. */
const againstScript = values.against === undefined ? undefined : path.resolve(values.against, 'packages', 'sidecar', 'bin', 'weft-sidecar.js');
if (againstScript !== undefined && !fs.existsSync(againstScript)) throw new Error(`--against: ${againstScript} does not exist (give a checkout's root, built with npm run build)`);
const againstEnv: Record<string, string> = {};
for (const kv of values['against-env'] ?? []) againstEnv[kv.slice(0, kv.indexOf('='))] = kv.slice(kv.indexOf('=') + 1);
if (values.concurrent && againstScript === undefined) throw new Error('--concurrent loads this build and the --against build side by side: give --against');

interface Contender {
  readonly label: string;
  readonly target: Target;
  readonly client: ProcessSet;
  readonly server: ProcessSet;
}

interface Slot {
  readonly rate: number;
  readonly clientUs: number;
  readonly serverUs: number;
  /** Share of both proxies' CPU spent in the kernel. */
  readonly kernelShare: number;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

/** One slot's load on a target: 1 KiB GETs, or gRPC unary calls (`grpcBody`: h2load's request file). */
function generate(target: Target, grpcBody: string, log: string): ReturnType<typeof wrkMax> {
  if (protocol === 'grpc') return h2loadGrpc(target, grpcBody, seconds, log, rate);
  return rate === undefined ? wrkMax(target, FILES['1k'].path, seconds) : openLoopAt(target, FILES['1k'].path, rate, seconds);
}

async function runSlot(c: Contender, grpcBody: string, log: string): Promise<Slot> {
  const hz = clockTicksPerSecond();
  const before = [c.client.cpuTicks(), c.server.cpuTicks()];
  const systemBefore = c.client.systemTicks() + c.server.systemTicks();
  const figures = await generate(c.target, grpcBody, log);
  const us = (i: number, set: ProcessSet): number => cpuSecondsPer1000(before[i] ?? 0, set.cpuTicks(), hz, figures.requests) * 1000;
  const total = c.client.cpuTicks() + c.server.cpuTicks() - (before[0] ?? 0) - (before[1] ?? 0);
  const kernelShare = (c.client.systemTicks() + c.server.systemTicks() - systemBefore) / Math.max(1, total);
  return { rate: figures.rate, clientUs: us(0, c.client), serverUs: us(1, c.server), kernelShare };
}

async function main(): Promise<void> {
  ensureTools(log);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weft-floor-'));
  const upstreams = await startUpstreams(dir);
  const group = new ProcessGroup();
  const pairs: { stop(): Promise<void> }[] = [];
  try {
    const certs = makePairCerts(path.join(dir, 'certs'));
    const certDir = path.dirname(certs.ca);
    /** A pair of floor-proxy.ts or floor-raw-proxy.ts processes: both take the same arguments. */
    const startScriptPair = async (name: string, label: string): Promise<Contender> => {
      const [clientPort, serverPort] = (await findFreePorts(2)) as [number, number];
      const script = path.join(__dirname, `${name}.js`);
      const server = group.spawn({ name: `${name}-server`, script, args: ['server', String(serverPort), String(upstreams.httpPort), certDir] });
      const client = group.spawn({ name: `${name}-client`, script, args: ['client', String(clientPort), String(serverPort), certDir] });
      for (const proc of [server, client]) await group.waitForLog(proc, (e) => e['msg'] === 'listening', 10_000);
      return { label, target: { port: clientPort, host: 'web' }, client: new ProcessSet(`${name} client`, [client.pid]), server: new ProcessSet(`${name} server`, [server.pid]) };
    };
    const grpcBody = writeGrpcBody(dir);
    const contenders: Contender[] = protocol === 'grpc' ? [] : [await startScriptPair('floor-proxy', 'Node floor pair')];
    if (values.raw && protocol === 'http') contenders.push(await startScriptPair('floor-raw-proxy', 'raw floor pair'));
    if (values.nginx) {
      const nginx = await startNginxPair(path.join(dir, 'nginx'), upstreams);
      pairs.push(nginx);
      const proxies = nginx.proxies(protocol);
      if (!proxies.client || !proxies.server) throw new Error('the nginx pair has no client or server proxy');
      contenders.push({ label: 'nginx pair', target: nginx.target(protocol), client: proxies.client, server: proxies.server });
    }
    for (const sampling of samplings) {
      const weft = await startWeftPair(upstreams, sampling === undefined ? { countingCollector, ...routeTimeout } : { countingCollector, ...routeTimeout, samplingPercent: sampling });
      pairs.push(weft);
      const proxies = weft.proxies(protocol);
      if (!proxies.client || !proxies.server) throw new Error('the Weft pair has no client or server sidecar');
      const label = sampling === undefined ? 'Weft pair' : `Weft pair, sampling ${sampling}%`;
      contenders.push({ label, target: weft.target(protocol), client: proxies.client, server: proxies.server });
    }
    // This build's first Weft pair against the other build's, when comparing two builds.
    const candidate = contenders.find((c) => c.label.startsWith('Weft pair'));
    let baseline: Contender | undefined;
    if (againstScript !== undefined) {
      // At the first sampling given, so that `--sampling 100,0 --against DIR` compares tracing's cost too.
      const sampling = samplings[0];
      const withEnv = Object.keys(againstEnv).length > 0 ? { sidecarEnv: againstEnv } : {};
      const weft = await startWeftPair(upstreams, { countingCollector, ...routeTimeout, sidecarScript: againstScript, ...withEnv, ...(sampling === undefined ? {} : { samplingPercent: sampling }) });
      pairs.push(weft);
      const proxies = weft.proxies(protocol);
      if (!proxies.client || !proxies.server) throw new Error('the Weft pair has no client or server sidecar');
      const env = Object.entries(againstEnv).map(([k, v]) => ` ${k}=${v}`).join('');
      baseline = { label: `Weft pair (${values.against}${env})`, target: weft.target(protocol), client: proxies.client, server: proxies.server };
      contenders.push(baseline);
    }
    const h2loadLog = path.join(dir, 'h2load.log');
    const logOf = (c: Contender): string => `${h2loadLog}.${contenders.indexOf(c)}`;
    for (const c of contenders) {
      if (protocol === 'grpc') await h2loadGrpc(c.target, grpcBody, 2, logOf(c)); // warm-up
      else await wrkMax(c.target, FILES['1k'].path, 2);
    }
    const results = new Map<string, Slot[]>(contenders.map((c) => [c.label, []]));
    const sampler = new RssSampler(contenders.flatMap((c) => [c.client, c.server]));
    for (let i = 0; i < slots; i++) {
      for (const c of i % 2 === 0 ? contenders : [...contenders].reverse()) {
        if (values.concurrent && c === baseline) continue; // measured beside the candidate
        const together = values.concurrent && c === candidate && baseline ? [c, baseline] : [c];
        const measured = await Promise.all(together.map((one) => runSlot(one, grpcBody, logOf(one))));
        together.forEach((one, j) => {
          const slot = measured[j] as Slot;
          results.get(one.label)?.push(slot);
          log(`slot ${i + 1} ${one.label}: ${slot.rate.toFixed(0)} req/s, CPU client ${slot.clientUs.toFixed(0)} / server ${slot.serverUs.toFixed(0)} us per request, ${(slot.kernelShare * 100).toFixed(0)}% in the kernel (load ${os.loadavg()[0]?.toFixed(1)})`);
        });
      }
    }
    const [first, ...others] = contenders as [Contender, ...Contender[]];
    const together = values.concurrent ? ` (the two Weft pairs side by side in each slot)` : '';
    const lines = [
      `${protocol === 'grpc' ? `h2load ${rate === undefined ? '-c4 -m16' : `-c4 -m256 at ${rate} req/s,`} ${seconds} s, gRPC unary calls (64-byte messages)` : `${rate === undefined ? 'wrk -t1 -c32' : `open loop at ${rate} req/s,`} ${seconds} s, 1 KiB GETs`}, ${slots} interleaved slots each${together}, medians:`,
      '',
      ...describeMachine().map((m) => `- ${m}`),
      '',
      `| figure | ${contenders.map((c) => c.label).join(' | ')} | ${others.map((c) => `${c.label} / ${first.label}`).join(' | ')} |`,
      `| --- |${' ---: |'.repeat(contenders.length + others.length)}`,
    ];
    const row = (name: string, pick: (s: Slot) => number, digits: number): string => {
      const values = contenders.map((c) => median((results.get(c.label) ?? []).map(pick)));
      const base = values[0] as number;
      return `| ${name} | ${values.map((v) => v.toFixed(digits)).join(' | ')} | ${values.slice(1).map((v) => `${(v / base).toFixed(2)}×`).join(' | ')} |`;
    };
    lines.push(
      row(rate === undefined ? 'max throughput, req/s' : 'achieved rate, req/s', (s) => s.rate, 0),
      row('CPU per request, client proxy, µs', (s) => s.clientUs, 0),
      row('CPU per request, server proxy, µs', (s) => s.serverUs, 0),
      row('CPU per request, both proxies, µs', (s) => s.clientUs + s.serverUs, 0),
      row('share of that CPU in the kernel, %', (s) => s.kernelShare * 100, 0),
    );
    const peaks = sampler.stop();
    const peak = (c: Contender): string => `${((peaks.get(c.client) ?? NaN) / 1024).toFixed(1)} / ${((peaks.get(c.server) ?? NaN) / 1024).toFixed(1)}`;
    lines.push(`| peak RSS client / server, MB | ${[first, ...others].map(peak).join(' | ')} |${' |'.repeat(others.length)}`);
    if (baseline && candidate) {
      const med = (c: Contender, pick: (s: Slot) => number): number => median((results.get(c.label) ?? []).map(pick));
      const ratio = (pick: (s: Slot) => number): string => `${(med(candidate, pick) / med(baseline, pick)).toFixed(3)}×`;
      lines.push('', `${candidate.label} / ${baseline.label}: throughput ${ratio((s) => s.rate)}, CPU per request client ${ratio((s) => s.clientUs)}, server ${ratio((s) => s.serverUs)}, both ${ratio((s) => s.clientUs + s.serverUs)}`);
      // Slot by slot: what a drift of the host did to both builds in one slot cancels out.
      const paired = (pick: (s: Slot) => number): string => renderPairedRatio(pairedRatio((results.get(candidate.label) ?? []).map(pick), (results.get(baseline.label) ?? []).map(pick)));
      lines.push(`per-slot ratios: CPU per request, both proxies ${paired((s) => s.clientUs + s.serverUs)}; throughput ${paired((s) => s.rate)}`);
    }
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    for (const weft of pairs) await weft.stop();
    await group.stopAll(3_000);
    await upstreams.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  log(`bench:floor failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exitCode = 1;
});
