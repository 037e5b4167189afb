/**
 * `npm run bench:exporter-down [-- --rate 300 --down-seconds 60]`: what happens to traffic when
 * the tracing backend goes away under load. The Weft pair with every request recorded
 * (samplingPercent 100) takes an open-loop load at a fixed rate through three phases: collector
 * up, collector stopped for a minute, collector back on the same address. Per phase: achieved
 * rate, latency, errors, the client sidecar's RSS (peak in the phase, and at its end), spans the
 * sidecars dropped (`weft_spans_dropped_total`) and spans the collector received. The test
 * `test/trace-exporter-down.test.ts` checks the behaviour (no failed request, drops counted,
 * memory bounded); this prints the figures, which a test must not assert on.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { httpGetText, parsePrometheusText, startOtlpReceiver, sumSamples, type OtlpReceiver, type Sidecar } from '@weft/harness';
import { startWeftPair } from './pair-weft';
import { ProcessSet, RssSampler } from './proc-stats';
import { openLoopAt } from './runners';
import { describeMachine, ensureTools } from './tools';
import { FILES, startUpstreams } from './upstreams';

const { values } = parseArgs({ options: { rate: { type: 'string', default: '300' }, 'down-seconds': { type: 'string', default: '60' }, 'phase-seconds': { type: 'string', default: '20' } } });
const rate = Math.max(1, Math.round(Number(values.rate)));
const downSeconds = Math.max(1, Math.round(Number(values['down-seconds'])));
const phaseSeconds = Math.max(1, Math.round(Number(values['phase-seconds'])));
const log = (text: string): void => void process.stderr.write(`${text}\n`);

async function dropped(sidecars: readonly Sidecar[]): Promise<number> {
  let sum = 0;
  for (const s of sidecars) sum += sumSamples(parsePrometheusText(await httpGetText(s.adminPort, '/metrics')), 'weft_spans_dropped_total');
  return sum;
}

interface Phase {
  readonly name: string;
  readonly row: string;
}

async function main(): Promise<void> {
  ensureTools(log);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weft-exporter-down-'));
  const upstreams = await startUpstreams(dir);
  let weft: Awaited<ReturnType<typeof startWeftPair>> | undefined;
  let revived: OtlpReceiver | undefined;
  try {
    weft = await startWeftPair(upstreams, { samplingPercent: 100 });
    const pair = weft;
    const sidecars = [pair.sidecars.client, pair.sidecars.http];
    const client = new ProcessSet('client sidecar', [pair.sidecars.client.proc.pid]);
    const target = pair.target('http');
    await openLoopAt(target, FILES['1k'].path, rate, 3); // warm-up
    const phases: Phase[] = [];
    const runPhase = async (name: string, seconds: number, receiver: () => OtlpReceiver | undefined): Promise<void> => {
      const droppedBefore = await dropped(sidecars);
      const spansBefore = receiver()?.spans().length ?? 0;
      const sampler = new RssSampler([client]);
      const figures = await openLoopAt(target, FILES['1k'].path, rate, seconds);
      const peak = (sampler.stop().get(client) ?? NaN) / 1024;
      const spans = (receiver()?.spans().length ?? 0) - spansBefore;
      const lost = (await dropped(sidecars)) - droppedBefore;
      log(`${name}: ${figures.rate.toFixed(0)} req/s, p99 ${figures.p99.toFixed(2)} ms, ${figures.errors} errors, ${figures.unanswered} unanswered, spans received ${spans}, dropped ${lost}`);
      phases.push({
        name,
        row: `| ${name} | ${seconds} | ${figures.rate.toFixed(0)} | ${figures.p50.toFixed(2)} / ${figures.p99.toFixed(2)} / ${figures.max.toFixed(2)} | ${figures.errors} / ${figures.unanswered} | ${peak.toFixed(1)} / ${(client.rssKb() / 1024).toFixed(1)} | ${spans} | ${lost} |`,
      });
    };
    const first = pair.receiver;
    if (!first) throw new Error('the Weft pair has no collecting receiver');
    const port = first.port;
    await runPhase('collector up', phaseSeconds, () => first);
    await first.close();
    await runPhase('collector stopped', downSeconds, () => undefined);
    revived = await startOtlpReceiver({ port });
    await runPhase('collector back', phaseSeconds, () => revived);
    const lines = [
      `Open loop at ${rate} req/s of 1 KiB GETs through the Weft pair, every request recorded (samplingPercent 100), default export queue.`,
      '',
      ...describeMachine().map((m) => `- ${m}`),
      '',
      '| phase | s | achieved req/s | p50 / p99 / max, ms | errors / unanswered at the end | client RSS peak / end, MB | spans received | spans dropped |',
      '| --- | ---: | ---: | --- | ---: | --- | ---: | ---: |',
      ...phases.map((p) => p.row),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await weft?.stop();
    await revived?.close();
    await upstreams.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  log(`bench:exporter-down failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exitCode = 1;
});
