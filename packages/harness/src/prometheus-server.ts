import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { findFreePort } from './free-port';
import { httpRequest } from './http-client';
import type { ManagedProcess, ProcessGroup } from './process-group';
import { runProgram } from './run-node';

/** One element of an instant vector, as Prometheus's HTTP API returns it. */
export interface PromSample {
  readonly metric: Readonly<Record<string, string>>;
  readonly value: number;
}

/** A Prometheus server of the test's own (Debian's `prometheus` binary), on a loopback port. */
export interface PrometheusServer {
  readonly port: number;
  readonly proc: ManagedProcess;
  /** An instant query (`/api/v1/query`), at `timeSeconds` or now; rejects on a PromQL error. */
  query(expr: string, timeSeconds?: number): Promise<PromSample[]>;
  /** GET an API path (`/api/v1/metadata`, `/api/v1/series?...`) and return its `data`. */
  api<T>(pathAndQuery: string): Promise<T>;
  /** Waits until every target has been scraped successfully (`up == 1`). */
  waitForTargets(timeoutMs?: number): Promise<void>;
  /** Stops the server and removes its storage and config. */
  close(): Promise<void>;
}

export interface PrometheusOptions {
  /** The group that stops the server with everything else. */
  readonly group: ProcessGroup;
  /** Scrape jobs: job name -> loopback ports serving `/metrics`. */
  readonly jobs: Readonly<Record<string, readonly number[]>>;
  /** Scrape interval, e.g. `1s`. */
  readonly scrapeInterval?: string;
  readonly binary?: string;
}

const MISSING = 'the Prometheus server binary is not installed: `apt-get install prometheus` (Debian; .ci/run installs it when missing)';

/** Starts Prometheus with a config and temp storage of its own; it never uses a system instance. */
export async function startPrometheus(options: PrometheusOptions): Promise<PrometheusServer> {
  const binary = options.binary ?? 'prometheus';
  if (!(await onPath(binary))) throw new Error(MISSING);
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-prometheus-'));
  const interval = options.scrapeInterval ?? '1s';
  const jobs = Object.entries(options.jobs).map(
    ([job, ports]) => `  - job_name: ${job}\n    static_configs:\n      - targets: [${ports.map((p) => `"127.0.0.1:${p}"`).join(', ')}]\n`,
  );
  const configFile = path.join(dir, 'prometheus.yml');
  await fs.writeFile(configFile, `global:\n  scrape_interval: ${interval}\n  evaluation_interval: ${interval}\nscrape_configs:\n${jobs.join('')}`);
  const targets = Object.values(options.jobs).reduce((n, ports) => n + ports.length, 0);
  // A port found free can be taken before Prometheus binds it: try another once.
  for (let tries = 0; ; tries++) {
    const port = await findFreePort();
    const proc = options.group.spawn({
      name: 'prometheus',
      script: binary,
      native: true,
      args: [`--config.file=${configFile}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
      cwd: dir,
    });
    const close = async (): Promise<void> => {
      await options.group.stop(proc);
      await fs.rm(dir, { recursive: true, force: true });
    };
    try {
      await waitUntil(async () => proc.running && (await httpRequest({ port, path: '/-/ready', timeoutMs: 2000 })).status === 200, proc, 20_000);
    } catch (err) {
      await options.group.stop(proc);
      if (tries === 0) continue;
      await fs.rm(dir, { recursive: true, force: true });
      throw err;
    }
    const api = async <T>(pathAndQuery: string): Promise<T> => {
      const res = await httpRequest({ port, path: pathAndQuery, timeoutMs: 10_000 });
      const body = JSON.parse(res.body) as { status: string; data: T; error?: string };
      if (body.status !== 'success') throw new Error(`Prometheus ${pathAndQuery}: ${body.error ?? res.body.slice(0, 300)}`);
      return body.data;
    };
    const query = async (expr: string, timeSeconds?: number): Promise<PromSample[]> => {
      const at = timeSeconds === undefined ? '' : `&time=${timeSeconds}`;
      const data = await api<{ resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] }>(`/api/v1/query?query=${encodeURIComponent(expr)}${at}`);
      if (data.resultType !== 'vector') throw new Error(`expected an instant vector from ${expr}, got ${data.resultType}`);
      return data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
    };
    const waitForTargets = async (timeoutMs = 20_000): Promise<void> => {
      await waitUntil(async () => (await query('up == 1')).length === targets, proc, timeoutMs, async () => JSON.stringify(await api('/api/v1/targets')).slice(0, 1500));
    };
    return { port, proc, query, api, waitForTargets, close };
  }
}

/**
 * Lints a text exposition with `promtool check metrics` (the same Debian package): a real
 * Prometheus parser, plus its naming rules (`_total` counters, base units). Returns its findings,
 * '' when there are none; rejects when the text does not parse at all.
 */
export async function promtoolCheckMetrics(text: string): Promise<string> {
  if (!(await onPath('promtool'))) throw new Error(MISSING);
  const result = await runProgram('promtool', ['check', 'metrics'], { input: text });
  const findings = `${result.stdout}${result.stderr}`.trim();
  if (result.code !== 0 && findings === '') throw new Error(`promtool check metrics failed with exit code ${result.code}`);
  return findings;
}

async function onPath(binary: string): Promise<boolean> {
  if (binary.includes('/')) return fs.access(binary).then(() => true, () => false);
  for (const dir of (process.env['PATH'] ?? '').split(':')) {
    if (dir && (await fs.access(path.join(dir, binary)).then(() => true, () => false))) return true;
  }
  return false;
}

async function waitUntil(probe: () => Promise<boolean>, proc: ManagedProcess, timeoutMs: number, detail?: () => Promise<string>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!proc.running) throw new Error(`prometheus exited; last lines:\n${proc.tail()}`);
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs}ms waiting for prometheus${detail ? `: ${await detail().catch(() => '')}` : ''}\n${proc.tail()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
