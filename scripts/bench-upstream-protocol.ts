/**
 * `node scripts/dist/bench-upstream-protocol.js [--seconds 5] [--concurrency 16,64] [--rounds 2]`
 *
 * How should a sidecar carry its app's HTTP/1.1 requests to the next sidecar: over a pool of
 * HTTP/1.1 keep-alive connections (one request per connection at a time), or as streams of one
 * multiplexed HTTP/2 connection per endpoint? This drives the same HTTP/1.1 load through two real
 * sidecar processes both ways, in one run, and prints requests/s and latency side by side.
 *
 * A control plane, one app (here, in this process) behind its sidecar, and two calling sidecars
 * that differ only in `--http1-upstream`. The load (closed loop, keep-alive) goes to one caller
 * at a time; modes alternate within each round so that drift on a busy machine hits both.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { httpRequest, Mesh, type Sidecar } from '@weft/harness';
import { closedLoop, percentile, type LoadResult } from './bench/closed-loop';

const MODES = ['http1', 'h2'] as const;
type Mode = (typeof MODES)[number];

const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '5' }, concurrency: { type: 'string', default: '16,64' }, rounds: { type: 'string', default: '2' } },
});
const seconds = Number(values.seconds);
const levels = String(values.concurrency).split(',').map(Number);
const rounds = Number(values.rounds);
if (!(seconds > 0) || levels.some((c) => !(c > 0)) || !(rounds > 0)) throw new Error('--seconds, --concurrency and --rounds must be positive numbers');

const log = (text: string): void => void process.stderr.write(`${text}\n`);
const BODY = Buffer.alloc(1024, 'x'); // a small JSON-sized answer

async function startApp(): Promise<Server> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': BODY.length }).end(BODY));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

async function waitUntilServed(caller: Sidecar): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const res = await httpRequest({ port: caller.outboundPort, path: '/', headers: { host: 'api' } }).catch(() => undefined);
    if (res?.status === 200) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${caller.service} cannot reach api`);
}

function merge(results: readonly LoadResult[]): LoadResult {
  return {
    requests: results.reduce((n, r) => n + r.requests, 0),
    errors: results.reduce((n, r) => n + r.errors, 0),
    seconds: results.reduce((n, r) => n + r.seconds, 0),
    latencies: results.flatMap((r) => [...r.latencies]).sort((a, b) => a - b),
  };
}

function row(mode: Mode, concurrency: number, r: LoadResult): string {
  const cells = [mode.padEnd(8), String(concurrency).padStart(11), (r.requests / r.seconds).toFixed(0).padStart(10), percentile(r.latencies, 50).toFixed(2).padStart(8), percentile(r.latencies, 99).toFixed(2).padStart(8), String(r.errors).padStart(7)];
  return cells.join('  ');
}

async function run(mesh: Mesh, app: Server): Promise<void> {
  const cp = await mesh.startControlPlane();
  const appPort = (app.address() as AddressInfo).port;
  const start = async (service: string, extraArgs: string[]): Promise<Sidecar> =>
    mesh.startSidecar({ service, appPort, token: await mesh.createToken(service), controlPlane: cp.endpoint, extraArgs });
  const [, ...callers] = await Promise.all([start('api', []), ...MODES.map((mode) => start(`caller-${mode}`, ['--http1-upstream', mode]))]);
  const byMode = new Map<Mode, Sidecar>(MODES.map((mode, i) => [mode, callers[i] as Sidecar]));
  await Promise.all(callers.map(waitUntilServed));
  log(`mesh up; ${rounds} round(s) of ${seconds}s per mode and concurrency, modes alternating`);

  const results = new Map<string, LoadResult[]>();
  for (const mode of MODES) await closedLoop((byMode.get(mode) as Sidecar).outboundPort, 'api', Math.max(...levels), 1_000); // warm-up
  for (let round = 0; round < rounds; round++) {
    for (const concurrency of levels) {
      const order = round % 2 === 0 ? MODES : [...MODES].reverse();
      for (const mode of order) {
        const r = await closedLoop((byMode.get(mode) as Sidecar).outboundPort, 'api', concurrency, seconds * 1000);
        log(`  round ${round + 1}, ${mode}, concurrency ${concurrency}: ${(r.requests / r.seconds).toFixed(0)} req/s`);
        const key = `${mode}|${concurrency}`;
        results.set(key, [...(results.get(key) ?? []), r]);
      }
    }
  }

  process.stdout.write(`\nHTTP/1.1 load through two sidecars, ${rounds} x ${seconds}s per cell (1 KiB answers)\n`);
  process.stdout.write('upstream  concurrency     req/s   p50 ms   p99 ms   errors\n');
  for (const concurrency of levels) {
    for (const mode of MODES) process.stdout.write(`${row(mode, concurrency, merge(results.get(`${mode}|${concurrency}`) ?? []))}\n`);
  }
}

async function main(): Promise<void> {
  const mesh = new Mesh();
  const app = await startApp();
  try {
    await run(mesh, app);
  } finally {
    await mesh.close();
    await new Promise((resolve) => app.close(resolve));
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench-upstream-protocol: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
