import { expect } from 'chai';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import {
  findFreePort,
  httpGetText,
  Mesh,
  promtoolCheckMetrics,
  repoRoot,
  runProgram,
  startPrometheus,
  waitFor,
  type PrometheusServer,
  type PromSample,
  type Sidecar,
} from '@weft/harness';
import { API, apply, callVia, sleep, startEchoApp, type EchoApp } from './fixtures';

const INVENTORY = 'inventory.default';
/** The sidecars' latency buckets (DEFAULT_BUCKETS in @weft/api), to read what a quantile can say. */
const BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const DASHBOARD = path.join(repoRoot(), 'deploy/observability/grafana-dashboard.json');

/** Requests the test made, by status as the app's caller saw it, with the time each one ended. */
class Tally {
  readonly byStatus = new Map<number, number>();
  readonly done: { atMs: number; ms: number }[] = [];

  async send(client: Sidecar, pathname: string): Promise<number> {
    const started = Date.now();
    const res = await callVia(client, 'inventory', { path: pathname });
    this.byStatus.set(res.status, (this.byStatus.get(res.status) ?? 0) + 1);
    this.done.push({ atMs: Date.now(), ms: Date.now() - started });
    return res.status;
  }

  count(status: number): number {
    return this.byStatus.get(status) ?? 0;
  }
}

const one = (samples: PromSample[], what: string): number => {
  expect(samples, `${what}: expected one sample, got ${JSON.stringify(samples)}`).to.have.length(1);
  return (samples[0] as PromSample).value;
};

/** The upper bound of the bucket `seconds` falls in: as high as a histogram quantile can read for it. */
const bucketCeiling = (seconds: number): number => BUCKETS.find((b) => seconds <= b) ?? Infinity;

describe('metrics: a real Prometheus scrapes the sidecars and the control plane', function () {
  this.timeout(180_000);
  const mesh = new Mesh();
  const tally = new Tally();
  let prometheus: PrometheusServer;
  let inventoryApp: EchoApp;
  let clientApp: EchoApp;
  let tcpApp: net.Server;
  let client: Sidecar;
  let sidecars: Sidecar[];
  let controlPlanePort: number;
  let tcpPort: number;
  /** The TCP connection left open. */
  let tcpConnection: net.Socket | undefined;
  /** When the paced phase ended. */
  let pacedEndMs = 0;
  /** The paced phase's requests: when each finished (ms since the epoch) and how long it took as the caller saw it (s). */
  let pacedDone: { atMs: number; s: number }[] = [];
  const FAULTED = 4;
  const FAILED = 10;
  const BURST = 100;

  before(async () => {
    const cp = await mesh.startControlPlane();
    controlPlanePort = cp.httpPort;
    // Requests under /fault are answered by the client sidecar itself (fault injection, 418).
    await apply(
      mesh,
      `${API}\nkind: Route\nmetadata: {name: inventory}\nspec:\n  service: inventory\n  rules:\n  - match: [{path: {prefix: /fault}}]\n    fault: {abort: {percent: 100, httpStatus: 418}}\n  - {}\n`,
    );
    inventoryApp = await startEchoApp('inventory');
    clientApp = await startEchoApp('client');
    tcpApp = net.createServer((s) => s.on('error', () => undefined).pipe(s));
    await new Promise<void>((resolve) => tcpApp.listen(0, '127.0.0.1', resolve));
    tcpPort = await findFreePort();
    const [clientToken, inventoryToken, dbToken] = await Promise.all(['client', 'inventory', 'db'].map((s) => mesh.createToken(s)));
    sidecars = await Promise.all([
      mesh.startSidecar({ service: 'client', appPort: clientApp.port, token: clientToken as string, controlPlane: cp.endpoint, extraArgs: ['--tcp-forward', `${tcpPort}=db`] }),
      mesh.startSidecar({ service: 'inventory', appPort: inventoryApp.port, token: inventoryToken as string, controlPlane: cp.endpoint }),
      mesh.startSidecar({ service: 'db', appPort: (tcpApp.address() as net.AddressInfo).port, token: dbToken as string, controlPlane: cp.endpoint, extraArgs: ['--app-protocol', 'tcp'] }),
    ]);
    client = sidecars[0] as Sidecar;
    prometheus = await startPrometheus({
      group: mesh.group,
      jobs: { 'weft-sidecars': sidecars.map((s) => s.adminPort), 'weft-control-plane': [cp.httpPort] },
      scrapeInterval: '1s',
    });
    await prometheus.waitForTargets();
    // Every request from here on is tallied, the readiness probes included.
    await waitFor('client to reach inventory', async () => ((await tally.send(client, '/probe')) === 200 ? true : undefined), 15_000);

    // Known traffic. A burst on distinct paths (paths must not become labels), FAILED of them
    // failing in the app, FAULTED answered by the fault injection.
    inventoryApp.failNext(FAILED, 500);
    for (let i = 0; i < BURST; i += 4) await Promise.all([0, 1, 2, 3].map((k) => tally.send(client, `/item/${i + k}?token=t${i + k}`)));
    for (let i = 0; i < FAULTED; i++) await tally.send(client, `/fault/${i}`);
    // Three TCP connections through --tcp-forward to db; two closed, one left open.
    const conns = await Promise.all([0, 1, 2].map(() => tcpExchange(tcpPort, 'ping-1234')));
    conns[0]?.destroy();
    conns[1]?.destroy();
    tcpConnection = conns[2];
    // Then a paced phase for rates and latency: 20 requests a second for 12 s, the app taking 60 ms.
    inventoryApp.delayMs = 60;
    const paced: Promise<number>[] = [];
    const startedAt = tally.done.length;
    const timer = setInterval(() => paced.push(tally.send(client, '/paced')), 50);
    await sleep(12_000);
    clearInterval(timer);
    await Promise.all(paced);
    pacedEndMs = Date.now();
    pacedDone = tally.done.slice(startedAt).map((d) => ({ atMs: d.atMs, s: d.ms / 1000 }));
    inventoryApp.delayMs = 0;
    // Prometheus scrapes every second: wait until it has scraped what the last request counted.
    const sent = [...tally.byStatus.values()].reduce((a, b) => a + b, 0);
    const counted = async (direction: string): Promise<number | undefined> =>
      (await prometheus.query(`sum(weft_requests_total{job="weft-sidecars",direction="${direction}",destination="${INVENTORY}"})`))[0]?.value;
    await waitFor('Prometheus to have scraped every request', async () => ((await counted('outbound')) === sent ? true : undefined), 15_000);
    // The inventory sidecar saw every request but the faulted ones, scraped on its own schedule.
    await waitFor('Prometheus to have scraped the inbound side', async () => ((await counted('inbound')) === tally.count(200) + FAILED ? true : undefined), 15_000);
  });

  after(async () => {
    tcpConnection?.destroy();
    await prometheus?.close();
    await mesh.close();
    await Promise.all([inventoryApp?.close(), clientApp?.close(), new Promise((r) => tcpApp?.close(r))]);
  });

  it('counts every request exactly, by direction, destination, route and status code', async () => {
    const outbound = await prometheus.query(`sum by (code, route) (weft_requests_total{job="weft-sidecars",direction="outbound",destination="${INVENTORY}"})`);
    const byCodeRoute = new Map(outbound.map((s) => [`${s.metric['code']} ${s.metric['route']}`, s.value]));
    expect(byCodeRoute.get('418 inventory/0')).to.equal(FAULTED);
    expect(byCodeRoute.get('500 inventory/1')).to.equal(FAILED);
    expect(byCodeRoute.get('200 inventory/1')).to.equal(tally.count(200));
    expect([...byCodeRoute.values()].reduce((a, b) => a + b, 0)).to.equal([...tally.byStatus.values()].reduce((a, b) => a + b, 0));
    // The inventory sidecar saw every request that reached it (not the faulted ones), from client.
    const inbound = await prometheus.query(`sum by (code, source) (weft_requests_total{job="weft-sidecars",direction="inbound",destination="${INVENTORY}"})`);
    expect(new Map(inbound.map((s) => [`${s.metric['code']} ${s.metric['source']}`, s.value]))).to.deep.equal(
      new Map([
        ['200 client.default', tally.count(200)],
        ['500 client.default', FAILED],
      ]),
    );
    expect(one(await prometheus.query(`sum(weft_faults_injected_total{destination="${INVENTORY}",route="inventory/0",fault="abort"})`), 'faults')).to.equal(FAULTED);
    // Bounded cardinality: neither the hundred paths nor their query strings became label values.
    const series = await prometheus.api<Record<string, string>[]>(`/api/v1/series?match[]=${encodeURIComponent('{job="weft-sidecars",__name__=~"weft_.+"}')}`);
    expect(JSON.stringify(series)).to.not.match(/item|token=|\/paced|\/fault/);
    expect(series.length).to.be.below(400);
  });

  it('sum(rate(...)) returns the request rate the test sent', async () => {
    const windowS = 8;
    const at = pacedEndMs / 1000 - 1;
    const sentInWindow = tally.done.filter((d) => d.atMs > (at - windowS) * 1000 && d.atMs <= at * 1000).length / windowS;
    for (const direction of ['outbound', 'inbound']) {
      const rate = one(await prometheus.query(`sum(rate(weft_requests_total{job="weft-sidecars",direction="${direction}",destination="${INVENTORY}"}[${windowS}s]))`, at), `${direction} rate`);
      // rate() extrapolates from samples a second apart: within a quarter (or 3 req/s) of what was sent.
      expect(rate, `${direction} rate; the test sent ${sentInWindow} req/s`).to.be.closeTo(sentInWindow, Math.max(3, sentInWindow / 4));
    }
  });

  it('histogram_quantile(...) returns latencies consistent with the 60 ms the app took', async () => {
    const at = pacedEndMs / 1000 - 1;
    // The caller's figures over the same 8 s the query reads (a slow second outside that window,
    // on a loaded machine, would otherwise move the caller's p50 and not the quantile's).
    const inWindow = pacedDone.filter((d) => d.atMs > (at - 8) * 1000 && d.atMs <= at * 1000).map((d) => d.s).sort((a, b) => a - b);
    const clientP50 = inWindow[Math.floor(inWindow.length * 0.5)] as number;
    const clientMax = pacedDone.reduce((max, d) => Math.max(max, d.s), 0);
    for (const direction of ['outbound', 'inbound']) {
      const quantile = async (q: number): Promise<number> =>
        one(
          await prometheus.query(`histogram_quantile(${q}, sum by (le) (rate(weft_request_duration_seconds_bucket{job="weft-sidecars",direction="${direction}",destination="${INVENTORY}"}[8s])))`, at),
          `${direction} p${q * 100}`,
        );
      const [p50, p99] = [await quantile(0.5), await quantile(0.99)];
      // No request can be faster than the app's delay; a sidecar's own time is inside what the
      // caller measured, so a quantile reads at most the top of the bucket the caller's figure is in.
      expect(p50, `${direction} p50 (caller measured ${clientP50}s)`).to.be.within(0.05, bucketCeiling(clientP50));
      expect(p99, `${direction} p99 (caller measured at most ${clientMax}s)`).to.be.within(p50, bucketCeiling(clientMax));
    }
  });

  it('counts TCP connections opened and closed, and their bytes', async () => {
    for (const direction of ['outbound', 'inbound']) {
      const selector = `job="weft-sidecars",direction="${direction}",destination="db.default"`;
      expect(one(await prometheus.query(`sum(weft_tcp_connections_opened_total{${selector}})`), 'opened')).to.equal(3);
      expect(one(await prometheus.query(`sum(weft_tcp_connections_closed_total{${selector}})`), 'closed')).to.equal(2);
      // Bytes are counted when a connection closes: 'ping-1234' each way on two of them.
      expect(one(await prometheus.query(`sum(weft_tcp_received_bytes_total{${selector}})`), 'received')).to.equal(18);
      expect(one(await prometheus.query(`sum(weft_tcp_sent_bytes_total{${selector}})`), 'sent')).to.equal(18);
    }
  });

  it('exports the control plane: connected proxies, pushes and their latency, NACKs, certificates, tokens', async () => {
    const cp = 'job="weft-control-plane"';
    expect(one(await prometheus.query(`weft_cp_connected_proxies{${cp}}`), 'connected')).to.equal(3);
    expect(one(await prometheus.query(`weft_cp_tokens_used_total{${cp}}`), 'tokens')).to.equal(3);
    expect(one(await prometheus.query(`weft_cp_certificates_issued_total{${cp},via="join-token"}`), 'certificates')).to.equal(3);
    expect(one(await prometheus.query(`weft_cp_nacks_total{${cp}}`), 'nacks')).to.equal(0);
    const acks = one(await prometheus.query(`weft_cp_acks_total{${cp}}`), 'acks');
    expect(acks).to.be.at.least(3);
    expect(one(await prometheus.query(`sum(weft_cp_push_duration_seconds_count{${cp},result="ack"})`), 'timed acks')).to.equal(acks);
    // Each sidecar's side of the same story.
    const sidecarAcks = await prometheus.query('weft_config_acks_total{job="weft-sidecars"}');
    expect(sidecarAcks.map((s) => s.value).every((v) => v >= 1), JSON.stringify(sidecarAcks)).to.equal(true);
    expect((await prometheus.query('weft_config_nacks_total{job="weft-sidecars"} == 0')).length).to.equal(3);
    expect((await prometheus.query('weft_certificate_expiry_timestamp_seconds{job="weft-sidecars"} - time() > 3600')).length).to.equal(3);
  });

  it('exports process CPU and memory from every process', async () => {
    expect((await prometheus.query('process_resident_memory_bytes > 20e6')).length).to.equal(4);
    expect((await prometheus.query('rate(process_cpu_seconds_total[10s]) > 0')).length).to.equal(4);
    expect((await prometheus.query('time() - process_start_time_seconds < 3600')).length).to.equal(4);
  });

  it('serves text that Prometheus parses with the declared types, and promtool finds nothing to lint', async () => {
    const metadata = await prometheus.api<Record<string, { type: string; help: string }[]>>('/api/v1/metadata');
    const types: Record<string, string> = {
      weft_requests_total: 'counter',
      weft_request_duration_seconds: 'histogram',
      weft_tcp_connections_opened_total: 'counter',
      weft_faults_injected_total: 'counter',
      weft_certificate_expiry_timestamp_seconds: 'gauge',
      weft_config_version_info: 'gauge',
      weft_config_nacks_total: 'counter',
      weft_cp_push_duration_seconds: 'histogram',
      weft_cp_connected_proxies: 'gauge',
      process_cpu_seconds_total: 'counter',
      process_resident_memory_bytes: 'gauge',
    };
    for (const [name, type] of Object.entries(types)) {
      expect(metadata[name]?.[0]?.type, name).to.equal(type);
      expect(metadata[name]?.[0]?.help, `${name} HELP`).to.not.equal('');
    }
    const labelSets = await prometheus.api<Record<string, string>[]>(`/api/v1/series?match[]=${encodeURIComponent('weft_requests_total{job="weft-sidecars"}')}`);
    expect(labelSets.length).to.be.above(0);
    // Prometheus drops a label whose value is empty: an inbound request has no route.
    const allowed = ['__name__', 'job', 'instance', 'direction', 'source', 'destination', 'code', 'route', 'grpc_status'];
    for (const labels of labelSets) {
      expect(Object.keys(labels).filter((k) => !allowed.includes(k)), JSON.stringify(labels)).to.deep.equal([]);
      expect(Object.keys(labels)).to.include.members(allowed.slice(0, 7));
    }
    for (const port of [...sidecars.map((s) => s.adminPort), controlPlanePort]) {
      expect(await promtoolCheckMetrics(await httpGetText(port, '/metrics')), `promtool on :${port}`).to.equal('');
    }
  });

  it("the Grafana dashboard's every query returns data, and the example scrape config is valid", async () => {
    const dashboard = JSON.parse(fs.readFileSync(DASHBOARD, 'utf8')) as { panels: { title: string; targets: { expr: string }[] }[] };
    const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => ({ panel: p.title, expr: t.expr })));
    expect(exprs.length).to.be.at.least(8);
    const at = pacedEndMs / 1000 - 1;
    for (const { panel, expr } of exprs) {
      // What Grafana substitutes: All for the variables, a rate window of a few scrapes.
      const query = expr.replaceAll('$__rate_interval', '8s').replaceAll('$destination', '.*').replaceAll('$job', '.*');
      expect(query, `${panel}: a variable the test does not substitute`).to.not.include('$');
      const result = await prometheus.query(query, at);
      expect(result.length, `${panel}: ${query} returned nothing`).to.be.above(0);
      expect(result.every((s) => Number.isFinite(s.value)), `${panel}: ${JSON.stringify(result)}`).to.equal(true);
    }
    const check = await runProgram('promtool', ['check', 'config', path.join(repoRoot(), 'deploy/observability/prometheus-static.yml')]);
    expect(check.code, check.stdout + check.stderr).to.equal(0);
  });
});

/** Opens a TCP connection, sends `text` and waits for the echo; returns the open socket. */
function tcpExchange(port: number, text: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(text));
    let got = '';
    socket.on('data', (d: Buffer) => {
      got += d.toString();
      if (got === text) resolve(socket);
    });
    socket.once('error', reject);
    socket.setTimeout(10_000, () => reject(new Error(`no echo of ${text} through the tcp-forward port`)));
  });
}
