/**
 * What the sidecar costs in memory, measured rather than guessed.
 *
 *   node scripts/dist/measure-sidecar-load.js [--runs N] [--module FILE ...] [--node-arg FLAG ...]
 *     Requires each module (default: what the bin runs, packages/sidecar/dist/bundle/main.js; the
 *     tsc output, packages/sidecar/dist/src/main.js, is the library's entry) in a
 *     fresh Node.js process, N times (default 5), and prints the median RSS before and after, the
 *     number of loaded files and the files per package.
 *
 *   node scripts/dist/measure-sidecar-load.js --running [--wrk SECONDS | --rate R [--requests N]] [--sampling P] [--node-arg FLAG ...]
 *     Starts a control plane, an OTLP receiver (tracing on, P% sampling, default 1% as users get it) and two
 *     meshed sample apps with their sidecars; reads each sidecar's VmRSS from /proc once it is
 *     ready and has settled. With --wrk, then drives `wrk -t1 -c32` through the client sidecar to
 *     the server sidecar for SECONDS; with --rate, sends N requests (default 3000) at R per second
 *     with `hey`. Prints what the load tool saw, the CPU both sidecars used per 1000 requests
 *     (from /proc) and their VmHWM (peak RSS).
 *     --node-arg flags reach the sidecars (and the sample apps beside them) through NODE_OPTIONS,
 *     not the control plane: to compare heap settings. Flags on the sidecar's own #! line (which the
 *     harness passes on the command line) win over NODE_OPTIONS; edit that line to compare those.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { measureModuleLoad, Mesh, repoRoot, startOtlpReceiver, type ModuleLoad, type Sidecar } from '@weft/harness';
import { ensureTools } from './bench/tools';

const MB = 1024 * 1024;
const SETTLE_MS = 5_000;
/** sysconf(_SC_CLK_TCK): 100 on Linux. */
const CLOCK_TICKS = 100;
const say = (text: string): void => void process.stdout.write(`${text}\n`);
const mb = (bytes: number): string => (bytes / MB).toFixed(1);

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

async function measureLoad(modules: readonly string[], runs: number, nodeArgs: readonly string[]): Promise<void> {
  for (const module of modules) {
    const samples: ModuleLoad[] = [];
    for (let i = 0; i < runs; i++) samples.push(await measureModuleLoad(module, { nodeArgs }));
    const last = samples[samples.length - 1] as ModuleLoad;
    say(`## ${path.relative(repoRoot(), path.resolve(module))}${nodeArgs.length ? ` (node ${nodeArgs.join(' ')})` : ''}`);
    say(`RSS before require ${mb(median(samples.map((s) => s.rssBefore)))} MB, after ${mb(median(samples.map((s) => s.rssAfter)))} MB; ` +
      `heap used ${mb(median(samples.map((s) => s.heapUsed)))} MB (median of ${runs})`);
    say(`${last.files.length} files loaded`);
    say('| package | files |\n| --- | ---: |');
    for (const [name, count] of last.byPackage) say(`| ${name} | ${count} |`);
    say('');
  }
}

/** VmRSS and VmHWM (peak) of a process, in bytes, from /proc/<pid>/status. */
function procMemory(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

/** CPU time (user + system) a process has used, in milliseconds, from /proc/<pid>/stat. */
function procCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime
  return (ticks * 1000) / CLOCK_TICKS;
}

/** How the running sidecars are loaded: closed loop (wrk, as fast as they go) or a fixed rate (hey). */
type Load = { readonly kind: 'wrk'; readonly seconds: number } | { readonly kind: 'hey'; readonly rate: number; readonly requests: number };

const HEY_WORKERS = 8;

function loadCommand(load: Load, url: string): [string, string[]] {
  if (load.kind === 'wrk') return ['wrk', ['-t1', '-c32', `-d${load.seconds}s`, '-H', 'Host: server', url]];
  return ['hey', ['-n', String(load.requests), '-c', String(HEY_WORKERS), '-q', String(load.rate / HEY_WORKERS), '-host', 'server', url]];
}

/** Requests completed, from wrk's or hey's summary. */
function completed(load: Load, stdout: string): number {
  if (load.kind === 'wrk') return Number(/(\d+) requests in/.exec(stdout)?.[1] ?? NaN);
  return [...stdout.matchAll(/\[(\d{3})\]\s+(\d+) responses/g)].reduce((sum, m) => sum + Number(m[2]), 0);
}

async function measureRunning(load: Load | undefined, nodeArgs: readonly string[], samplingPercent: number): Promise<void> {
  const mesh = new Mesh();
  const receiver = await startOtlpReceiver();
  try {
    const cp = await mesh.startControlPlane();
    const apply = await mesh.weftctl(['apply', '-f', '-'], {
      input: `apiVersion: weft.dev/v1alpha1\nkind: MeshConfig\nmetadata: {name: default}\nspec: {tracing: {otlpEndpoint: "${receiver.endpoint}", samplingPercent: ${samplingPercent}}}\n`,
    });
    if (apply.code !== 0) throw new Error(`weftctl apply failed: ${apply.stderr}`);
    // Only the sidecars get the flags under test; the control plane and weftctl run as usual.
    if (nodeArgs.length > 0) process.env['NODE_OPTIONS'] = [process.env['NODE_OPTIONS'] ?? '', ...nodeArgs].join(' ').trim();
    const server = await mesh.startMeshedApp({ name: 'server', token: await mesh.createToken('server'), controlPlane: cp.endpoint });
    const client = await mesh.startMeshedApp({ name: 'client', token: await mesh.createToken('client'), controlPlane: cp.endpoint });
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    const show = (label: string, sidecar: Sidecar): void => {
      const m = procMemory(sidecar.proc.pid);
      say(`${label} sidecar ${sidecar.service}: VmRSS ${mb(m.rss)} MB, VmHWM ${mb(m.hwm)} MB`);
    };
    say(`NODE_OPTIONS for the sidecars: ${nodeArgs.join(' ') || '(none)'} (their #! line's flags apply as well)`);
    show('idle', client.sidecar);
    show('idle', server.sidecar);
    if (load === undefined) return;
    const url = `http://127.0.0.1:${client.sidecar.outboundPort}/`;
    const sidecars = [client.sidecar, server.sidecar];
    const cpuBefore = sidecars.map((s) => procCpuMs(s.proc.pid));
    const [command, args] = loadCommand(load, url);
    const { stdout } = await promisify(execFile)(command, args);
    const cpuMs = sidecars.reduce((sum, s, i) => sum + procCpuMs(s.proc.pid) - (cpuBefore[i] as number), 0);
    const requests = completed(load, stdout);
    say(stdout.split('\n').filter((l) => /Requests\/sec|Latency|Non-2xx|errors|99%|\[\d{3}\]/.test(l)).join('\n'));
    say(`both sidecars: ${(cpuMs / (requests / 1000)).toFixed(0)} CPU ms per 1000 requests (${requests} requests)`);
    show('after load', client.sidecar);
    show('after load', server.sidecar);
  } finally {
    await mesh.close();
    await receiver.close();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '5' },
      module: { type: 'string', multiple: true },
      'node-arg': { type: 'string', multiple: true },
      running: { type: 'boolean', default: false },
      wrk: { type: 'string' },
      rate: { type: 'string' },
      requests: { type: 'string', default: '3000' },
      sampling: { type: 'string', default: '1' },
    },
  });
  const nodeArgs = values['node-arg'] ?? [];
  const load: Load | undefined =
    values.rate !== undefined ? { kind: 'hey', rate: Number(values.rate), requests: Number(values.requests) }
    : values.wrk !== undefined ? { kind: 'wrk', seconds: Number(values.wrk) }
    : undefined;
  // The load tool is installed with apt-get when missing, as the benchmarks do.
  if (load) ensureTools((text) => void process.stderr.write(`${text}\n`), [load.kind]);
  if (values.running) return measureRunning(load, nodeArgs, Number(values.sampling));
  const modules = values.module ?? [path.join(repoRoot(), 'packages', 'sidecar', 'dist', 'bundle', 'main.js')];
  return measureLoad(modules, Number(values.runs), nodeArgs);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
