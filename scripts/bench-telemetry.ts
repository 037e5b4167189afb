/**
 * What the sidecar's telemetry costs per request, measured in isolation from sockets and TLS.
 *
 *   node scripts/dist/bench-telemetry.js [--requests N] [--rounds R] [--export]
 *
 * Each simulated request goes through what telemetry does on both sides of a hop: the outbound
 * CLIENT span layer (`traceClient`), the inbound SERVER span layer (`traceServer`) continuing the
 * traceparent the client side sent, a RequestRecord per side and the `weft:request-end` event per
 * side (metrics, access log off as by default). The `next` service answers at once with a body
 * that ends on the next line, so the spans end as in the data path. Run for sampling 0%, 1% (the
 * default) and 100%, with and without a caller's `traceparent`; prints ns per request (both
 * sides) and the CPU time per request, best of R rounds (the machine is shared: the best round is
 * the one least disturbed). Spans go to an exporter that drops them, so export cost is the
 * batch processor's queueing, not the network.
 *
 * --export adds what a recorded span costs to send: spans made by the same layers at 100% go
 * through the sidecar's real OTLP/gRPC exporter in batches of 512 (the batch processor's size)
 * to the harness's OTLP receiver, run in a child process so that only the sending side's CPU
 * is counted.
 */
import { spawn } from 'node:child_process';
import { EventEmitter, once } from 'node:events';
import type { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import type { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { createLogger, effectiveMeshConfig } from '@weft/api';
import type { HeaderMap, ProxyResponse } from '@weft/sidecar/dist/src/layers/service';
import type { SelfInfo } from '@weft/sidecar/dist/src/self';
import { RequestRecord } from '@weft/sidecar/dist/src/telemetry/record';
import { Telemetry } from '@weft/sidecar/dist/src/telemetry/telemetry';
import { traceClient, traceServer } from '@weft/sidecar/dist/src/telemetry/trace-layers';

const SELF: SelfInfo = { proxyId: 'bench', service: 'frontend', namespace: 'default', trustDomain: 'weft.local', spiffeId: 'spiffe://weft.local/ns/default/sa/frontend', labels: {} };
/** The connection a SERVER span reads its addresses from (only when recorded). */
const PEER_SOCKET = { remoteAddress: '127.0.0.1', remotePort: 40000, localPort: 15006 };
const RULE = { name: 'orders/0', destination: { key: 'orders.default', service: 'orders', spiffeId: 'spiffe://weft.local/ns/default/sa/orders' }, matches: [] };
const CALLER = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00';

/** Drops spans, or keeps them in `kept` when given: what is measured is the span's life in the sidecar. */
function dropExporter(kept?: unknown[]): { export(spans: unknown[], done: (r: { code: number }) => void): void; shutdown(): Promise<void> } {
  return {
    export: (spans, done): void => {
      kept?.push(...spans);
      done({ code: 0 });
    },
    shutdown: async (): Promise<void> => undefined,
  };
}

interface Case {
  readonly samplingPercent: number;
  /** The app's own traceparent on the outbound request, or none. */
  readonly caller: string | undefined;
}

async function runCase(c: Case, requests: number, kept?: unknown[]): Promise<{ nsPerRequest: number; cpuNsPerRequest: number }> {
  const log = createLogger('bench', {});
  const client = new Telemetry(SELF, { log, exporterFor: () => dropExporter(kept) });
  const server = new Telemetry({ ...SELF, service: 'orders', spiffeId: RULE.destination.spiffeId }, { log, exporterFor: () => dropExporter(kept) });
  const defaults = effectiveMeshConfig(undefined, 'weft.local');
  const mesh = { ...defaults, tracing: { ...defaults.tracing, otlpEndpoint: '127.0.0.1:4317', samplingPercent: c.samplingPercent } };
  client.configure(mesh);
  server.configure(mesh);

  let body: EventEmitter | undefined;
  const app = (): Promise<ProxyResponse> => {
    body = new EventEmitter();
    return Promise.resolve({ status: 200, headers: {}, body: body as unknown as Readable });
  };
  const inbound = traceServer('orders', server.tracing, app);
  let inboundRecord = new RequestRecord('inbound', 'GET');
  const outbound = traceClient(RULE, client.tracing, async (req) => {
    inboundRecord = new RequestRecord('inbound', 'GET');
    inboundRecord.peerIdentity = SELF.spiffeId;
    inboundRecord.source = 'frontend.default';
    inboundRecord.destination = 'orders.default';
    const res = await inbound({ method: req.method, path: req.path, grpc: false, headers: { host: 'orders', traceparent: req.headers['traceparent'] ?? '' }, record: inboundRecord, socket: PEER_SOCKET });
    return res;
  });

  const one = async (): Promise<void> => {
    const record = new RequestRecord('outbound', 'GET');
    record.source = 'frontend.default';
    record.destination = 'orders.default';
    record.route = 'orders/0';
    const headers: HeaderMap = c.caller === undefined ? { host: 'orders' } : { host: 'orders', traceparent: c.caller };
    const res = await outbound({ method: 'GET', path: '/orders/1', grpc: false, headers, record });
    (body as EventEmitter).emit('end');
    inboundRecord.status = res.status;
    server.events.emit('weft:request-end', { record: inboundRecord, durationMs: inboundRecord.elapsedMs() });
    record.status = res.status;
    client.events.emit('weft:request-end', { record, durationMs: record.elapsedMs() });
  };

  for (let i = 0; i < Math.min(requests, 20_000); i++) await one(); // warm-up: JIT, series created
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < requests; i++) await one();
  const elapsed = Number(process.hrtime.bigint() - t0);
  const cpu = process.cpuUsage(cpu0);
  await Promise.all([client.shutdown(), server.shutdown()]);
  return { nsPerRequest: elapsed / requests, cpuNsPerRequest: ((cpu.user + cpu.system) * 1000) / requests };
}

/** CPU and wall time per span of sending recorded spans over OTLP/gRPC, as the batch processor does. */
async function measureExport(spanCount: number): Promise<void> {
  const kept: unknown[] = [];
  // Small steps: the batch processor's queue (2048 spans per side) drops the rest of a burst.
  while (kept.length < spanCount) await runCase({ samplingPercent: 100, caller: undefined }, 1000, kept);
  const spans = kept as Parameters<OTLPTraceExporter['export']>[0];
  const receiver = spawn(
    process.execPath,
    ['-e', "require('@weft/harness').startOtlpReceiver().then((r) => { process.stdout.write(r.endpoint + '\\n'); setInterval(r.clear, 200); })"],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  try {
    const [line] = (await once(receiver.stdout, 'data')) as [Buffer];
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-grpc');
    const exporter = new OTLPTraceExporter({ url: `http://${line.toString().trim()}` });
    const send = (batch: typeof spans): Promise<void> =>
      new Promise((resolve, reject) => exporter.export(batch, (r) => (r.code === 0 ? resolve() : reject(r.error ?? new Error('export failed')))));
    await send(spans.slice(0, 512)); // connect and warm up
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < spans.length; i += 512) await send(spans.slice(i, i + 512));
    const elapsed = Number(process.hrtime.bigint() - t0);
    const cpu = process.cpuUsage(cpu0);
    await exporter.shutdown();
    process.stdout.write(
      `\nOTLP/gRPC export of ${spans.length} recorded spans in batches of 512: ${Math.round(elapsed / spans.length)} ns per span, ` +
        `${Math.round(((cpu.user + cpu.system) * 1000) / spans.length)} CPU ns per span (sending side only)\n`,
    );
  } finally {
    receiver.kill();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { requests: { type: 'string', default: '100000' }, rounds: { type: 'string', default: '3' }, export: { type: 'boolean', default: false } },
  });
  const requests = Number(values.requests);
  const rounds = Number(values.rounds);
  const cases: Case[] = [
    { samplingPercent: 0, caller: undefined },
    { samplingPercent: 1, caller: undefined },
    { samplingPercent: 1, caller: CALLER },
    { samplingPercent: 100, caller: undefined },
  ];
  process.stdout.write(`| sampling | caller traceparent | ns per request (both sides), best of ${rounds} | CPU ns per request |\n| ---: | --- | ---: | ---: |\n`);
  for (const c of cases) {
    let best = { nsPerRequest: Infinity, cpuNsPerRequest: Infinity };
    for (let r = 0; r < rounds; r++) {
      const m = await runCase(c, requests);
      if (m.nsPerRequest < best.nsPerRequest) best = m;
    }
    process.stdout.write(`| ${c.samplingPercent}% | ${c.caller ? 'unsampled' : 'none'} | ${Math.round(best.nsPerRequest)} | ${Math.round(best.cpuNsPerRequest)} |\n`);
  }
  if (values.export) await measureExport(20_000);
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exitCode = 1;
});
