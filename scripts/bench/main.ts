/**
 * `npm run bench [-- --quick] [-- --out FILE]`: Weft's sidecar pair against a pair of nginx
 * reverse proxies and against no proxy at all, in one run, on this machine's loopback.
 *
 * Upstreams: a static nginx (1 KiB and 16 KiB files) and a grpc-js echo server. Workloads: 1 KiB
 * and 16 KiB HTTP/1.1 GETs, gRPC unary over h2c. Per configuration and workload: max throughput
 * (wrk / h2load, closed loop), latency at 500 and 2000 req/s (open loop), CPU seconds per 1000
 * requests of each proxy (from /proc), peak and idle RSS. Configurations take turns slot by slot.
 * Everything started is stopped at the end, also on failure and Ctrl-C. docs/performance.md
 * explains each figure.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { httpRequest } from '@weft/harness';
import { direct, type Configuration } from './configuration';
import { grpcEchoCall } from './grpc-echo';
import { startNginxPair } from './pair-nginx';
import { startWeftPair } from './pair-weft';
import { renderTables, type IdleReading, type IdleRss } from './report';
import { writeGrpcBody } from './runners';
import { generate, MEASURES, protocolOf, rotation, runSlot, WORKLOADS, type SlotResult, type Workload, settle } from './slots';
import { describeMachine, ensureTools } from './tools';
import { FILES, startUpstreams } from './upstreams';
import { runBenchMain, type Cleanups } from './run-main';

const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, seconds: { type: 'string' }, out: { type: 'string' } } });
// Whole seconds: wrk and h2load take no fractions.
const slotSeconds = Math.round(Number(values.seconds ?? (values.quick ? 2 : 7)));
// --quick leaves out the 16 KiB workload to finish in about a minute.
const workloads: readonly Workload[] = values.quick ? ['1k', 'grpc'] : WORKLOADS;
const warmSeconds = 1;
/**
 * How long the proxies are left without traffic after the last slot before their idle RSS is read
 * again (full runs only). Right after load a sidecar still holds the heap the load grew; V8's
 * memory reducer may give it back once the process has been idle for a while (15-45 s after a
 * single wrk run here, not always within this wait after a whole run), and an idle sidecar costs
 * what is left then.
 */
const settleIdleSeconds = values.quick ? 0 : 45;
if (!(slotSeconds > 0)) throw new Error('--seconds must be a positive number');

const t0 = Date.now();
const log = (text: string): void => void process.stderr.write(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(5)}s] ${text}\n`);
const cleanups: Cleanups = [];

/** Every configuration answers correctly before any load: the right bytes, a gRPC status OK. */
async function probe(config: Configuration): Promise<void> {
  const http = config.target('http');
  for (const [name, file] of Object.entries(FILES)) {
    const res = await httpRequest({ port: http.port, path: file.path, headers: { host: http.host } });
    if (res.status !== 200 || res.body.length !== file.bytes) throw new Error(`${config.label}: GET ${file.path} answered ${res.status} with ${res.body.length} bytes (${name})`);
  }
  const grpc = config.target('grpc');
  const reply = await grpcEchoCall(grpc.port, grpc.host, Buffer.from('probe'));
  if (reply.toString() !== 'probe') throw new Error(`${config.label}: the gRPC echo came back as ${JSON.stringify(reply.toString())}`);
}

function idleRss(configs: readonly Configuration[]): IdleRss {
  const idle: IdleRss = {};
  for (const c of configs) {
    const [http, grpc] = [c.proxies('http'), c.proxies('grpc')];
    if (http.client && http.server && grpc.server) idle[c.name] = { client: http.client.rssKb(), serverHttp: http.server.rssKb(), serverGrpc: grpc.server.rssKb() };
  }
  return idle;
}

async function run(): Promise<string> {
  const machine = describeMachine();
  ensureTools(log);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weft-bench-'));
  cleanups.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
  const upstreams = await startUpstreams(dir);
  cleanups.push(upstreams.stop);
  const nginx = await startNginxPair(dir, upstreams);
  cleanups.push(nginx.stop);
  const weft = await startWeftPair(upstreams);
  cleanups.push(weft.stop);
  const configs: Configuration[] = [direct(upstreams), nginx, weft];
  for (const c of configs) await probe(c);
  log('all three configurations answer; warming up');
  const grpcBody = writeGrpcBody(dir);
  for (const c of configs) for (const w of workloads) await generate(c, w, 'max', warmSeconds, grpcBody);
  await new Promise((r) => setTimeout(r, 1_000));
  const idle: IdleReading[] = [{ when: '1 s after warm-up', rss: idleRss(configs) }];

  const results: SlotResult[] = [];
  let cell = 0;
  const cells = workloads.length * MEASURES.length;
  const everyProxy = configs.flatMap((c) => (['http', 'grpc'] as const).flatMap((p) => ((x) => [x.client, x.server, ...x.others])(c.proxies(p)))).filter((s) => s !== undefined);
  log(`${cells} cells x ${configs.length} configurations, ${slotSeconds}s per slot`);
  for (const workload of workloads) {
    for (const measure of MEASURES) {
      for (const config of rotation(configs, cell)) {
        await settle(everyProxy, 3_000);
        const r = await runSlot(config, workload, measure, slotSeconds, grpcBody);
        results.push(r);
        const cpu = r.client && r.server ? `, proxies ${(r.client.cpuPer1000 + r.server.cpuPer1000).toFixed(3)} CPU s/1000 req` : '';
        log(`${workload} ${protocolOf(workload)} ${measure === 'max' ? 'max' : `@${measure}/s`} ${config.name}: ${r.figures.rate.toFixed(0)} req/s, p99 ${r.figures.p99.toFixed(2)} ms, ${r.figures.errors} errors, ${r.figures.unanswered} unanswered at the end${cpu}`);
      }
      cell += 1;
    }
  }
  if (settleIdleSeconds > 0) {
    log(`idle for ${settleIdleSeconds} s, then idle RSS again`);
    await new Promise((r) => setTimeout(r, settleIdleSeconds * 1000));
    idle.push({ when: `${settleIdleSeconds} s after the last slot`, rss: idleRss(configs) });
  }
  const spans = weft.receiver?.spans().length ?? 0;
  return [
    `## Results (${new Date().toISOString().slice(0, 16)}Z, ${slotSeconds}s per slot${values.quick ? ', --quick' : ''})`,
    '',
    ...machine.map((l) => `- ${l}`),
    `- spans the OTLP receiver got from the Weft pair during the run: ${spans}`,
    '',
    renderTables(results, idle, workloads),
  ].join('\n');
}

runBenchMain('bench', run, cleanups, log, values.out);
