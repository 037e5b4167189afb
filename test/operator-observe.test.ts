/**
 * `weftctl stat`, `tap`, `top` and `edges` against a real control plane and two sidecars: known
 * traffic (40 requests, 10 of them 500s held 300 ms by the app) must come back as exact counts,
 * a 75 % success rate and percentiles in the right buckets; a tap shows requests made while it
 * runs and none of their secrets; only the operator may tap. Real processes on loopback.
 */
import { expect } from 'chai';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { Mesh, programPath, readOperatorConfig, waitFor, weftctl, type Sidecar } from '@weft/harness';
import { workloadCredential } from './control-plane-client';
import { callVia, sleep, startEchoApp, type EchoApp } from './fixtures';

interface StatRowJson {
  readonly service: string;
  readonly route?: string;
  readonly proxyId?: string;
  readonly requests: number;
  readonly successes: number;
  readonly successRate: number;
  readonly rps: number;
  readonly latencyMsP50: number;
  readonly latencyMsP95: number;
  readonly latencyMsP99: number;
  readonly windowMs: number;
}

interface TapEventJson {
  readonly direction: string;
  readonly source: string;
  readonly destination: string;
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly latencyMs: number;
  readonly peerIdentity: string;
  readonly mtls: boolean;
  readonly traceId: string;
}

const SLOW_MS = 300;

describe('weftctl stat, tap, top and edges on a real mesh', function () {
  this.timeout(120_000);
  const mesh = new Mesh();
  const apps: EchoApp[] = [];
  let catalogApp: EchoApp;
  let frontend: Sidecar;
  let catalog: Sidecar;
  let configPath = '';
  let sendStartedAt = 0;
  let sendEndedAt = 0;

  const statJson = async (args: string[]): Promise<StatRowJson[]> => {
    const r = await mesh.weftctl(['stat', ...args, '-o', 'json']);
    expect(r.code, r.stderr).to.equal(0);
    return (JSON.parse(r.stdout) as { rows: StatRowJson[] }).rows;
  };

  before(async () => {
    const cp = await mesh.startControlPlane();
    configPath = cp.configPath;
    catalogApp = await startEchoApp('catalog');
    const frontendApp = await startEchoApp('frontend');
    apps.push(catalogApp, frontendApp);
    [catalog, frontend] = await Promise.all([
      mesh.startSidecar({ service: 'catalog', appPort: catalogApp.port, token: await mesh.createToken('catalog'), controlPlane: cp.endpoint }),
      mesh.startSidecar({ service: 'frontend', appPort: frontendApp.port, token: await mesh.createToken('frontend'), controlPlane: cp.endpoint }),
    ]);
    // No warm-up request (it would be counted): wait until frontend runs a config with catalog's endpoint.
    const catalogAddress = `127.0.0.1:${catalog.inboundPort}`;
    await waitFor("frontend to run a config with catalog's endpoint", async () => {
      const r = await mesh.weftctl(['proxy-config', 'frontend.default', '-o', 'json']);
      return r.code === 0 && r.stdout.includes(catalogAddress) && r.stdout.includes('SYNCED') ? true : undefined;
    }, 30_000);

    sendStartedAt = Date.now();
    for (let i = 0; i < 30; i++) expect((await callVia(frontend, 'catalog', { path: `/items/${i}` })).status).to.equal(200);
    catalogApp.delayMs = SLOW_MS;
    catalogApp.failNext(10, 500);
    for (let i = 0; i < 10; i++) expect((await callVia(frontend, 'catalog', { path: '/checkout', method: 'POST', body: '{}' })).status).to.equal(500);
    catalogApp.delayMs = 0;
    sendEndedAt = Date.now();
  });

  after(async () => {
    await mesh.close();
    await Promise.all(apps.map((a) => a.close()));
  });

  it('stat services: exact counts, 75% success, the rate over the window and percentiles from the merged histogram', async () => {
    const rows = await statJson(['services', 'catalog', '--window', '1m']);
    expect(rows).to.have.length(1);
    const row = rows[0] as StatRowJson;
    expect(row.service).to.equal('catalog.default');
    expect(row.requests).to.equal(40);
    expect(row.successes).to.equal(30);
    expect(row.successRate).to.equal(0.75);
    // The window: 1m rounded up to whole 10 s buckets, cut to the proxy's life; it holds the whole send.
    expect(row.windowMs).to.be.at.most(70_000).and.at.least(sendEndedAt - sendStartedAt);
    expect(row.rps).to.be.closeTo(40 / (row.windowMs / 1000), 1e-9);
    // 30 fast requests, then 10 held 300 ms: p50 is a fast one, p95 and p99 slow ones (buckets 19% wide).
    expect(row.latencyMsP50).to.be.below(SLOW_MS * 0.8);
    expect(row.latencyMsP95).to.be.at.least(SLOW_MS * 0.9).and.below(5_000);
    expect(row.latencyMsP99).to.be.at.least(row.latencyMsP95);

    const text = await mesh.weftctl(['stat', 'catalog']);
    expect(text.code, text.stderr).to.equal(0);
    expect(text.stdout).to.match(/^SERVICE\s+REQUESTS\s+SUCCESS\s+RPS\s+LATENCY_P50\s+LATENCY_P95\s+LATENCY_P99\s+TCP_CONN$/m);
    expect(text.stdout).to.match(/^catalog\.default\s+40\s+75\.00%\s+\d+\.\d\d\s+\S+ms\s+\S+\s+\S+\s+0$/m);
    expect(text.stderr, 'every proxy answered').to.equal('');
  });

  it("stat --from, routes and proxies: the callers' view, per route, per proxy", async () => {
    const from = await statJson(['--from', 'frontend', '--to', 'catalog']);
    expect(from.map((r) => [r.service, r.requests, r.successes])).to.deep.equal([['catalog.default', 40, 30]]);
    const routes = await statJson(['routes', 'catalog']);
    expect(routes.map((r) => [r.service, r.route, r.requests])).to.deep.equal([['catalog.default', 'default', 40]]);
    const proxies = await statJson(['proxies']);
    const catalogProxy = proxies.find((r) => r.service === 'catalog.default');
    expect(catalogProxy?.requests).to.equal(40);
    expect(catalogProxy?.proxyId).to.match(/^[0-9a-f-]{36}$/);
  });

  it('edges: frontend -> catalog with both identities, over mTLS', async () => {
    const r = await mesh.weftctl(['edges', '-o', 'json']);
    expect(r.code, r.stderr).to.equal(0);
    const edges = (JSON.parse(r.stdout) as { edges: { source: string; destination: string; sourceIdentity: string; destinationIdentity: string; mtls: boolean; requests: number; seenBy: string }[] }).edges;
    const edge = edges.find((e) => e.source === 'frontend.default' && e.destination === 'catalog.default');
    expect(edge).to.deep.include({
      sourceIdentity: 'spiffe://weft.local/ns/default/sa/frontend',
      destinationIdentity: 'spiffe://weft.local/ns/default/sa/catalog',
      mtls: true,
      requests: 40,
      seenBy: 'inbound,outbound',
    });
    const text = await mesh.weftctl(['edges']);
    expect(text.stdout).to.match(/^frontend\.default\s+catalog\.default\s+spiffe:\/\/weft\.local\/ns\/default\/sa\/frontend\s+spiffe:\/\/weft\.local\/ns\/default\/sa\/catalog\s+✓\s+40\s+0\s+/m);
  });

  it('tap shows requests made while it runs, and never their Authorization, cookies or query string', async () => {
    const tapping = mesh.weftctl(['tap', '--to', 'catalog', '--direction', 'inbound', '--duration', '6s', '-o', 'json']);
    const secrets = ['s3cr3t-bearer', 'c00kie-value', 'qu3ry-secret'];
    let sent = 0;
    let running = true;
    void tapping.finally(() => (running = false));
    while (running) {
      const res = await callVia(frontend, 'catalog', {
        path: `/tap/items?token=${secrets[2]}&id=${sent}`,
        headers: { authorization: `Bearer ${secrets[0]}`, cookie: `session=${secrets[1]}` },
      });
      expect(res.status).to.equal(200);
      sent++;
      await sleep(100);
    }
    const out = await tapping;
    expect(out.code, out.stderr).to.equal(0);
    const events = out.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as TapEventJson);
    expect(events.length, 'requests made during the tap were shown').to.be.greaterThan(0).and.at.most(sent);
    for (const e of events) {
      expect(e).to.deep.include({ direction: 'inbound', source: 'frontend.default', destination: 'catalog.default', method: 'GET', path: '/tap/items', status: 200, peerIdentity: 'spiffe://weft.local/ns/default/sa/frontend', mtls: true });
      expect(e.traceId).to.match(/^[0-9a-f]{32}$/);
      expect(e.latencyMs).to.be.a('number');
    }
    for (const secret of [...secrets, 'token=', 'authorization', 'cookie']) expect(out.stdout.toLowerCase()).not.to.contain(secret.toLowerCase());
    expect(out.stderr).not.to.contain('s3cr3t');
  });

  it('top aggregates a tap by path', async () => {
    const topping = mesh.weftctl(['top', '--from', 'frontend', '--direction', 'outbound', '--duration', '4s']);
    let running = true;
    void topping.finally(() => (running = false));
    while (running) {
      await callVia(frontend, 'catalog', { path: '/hot' });
      await sleep(50);
    }
    const out = await topping;
    expect(out.code, out.stderr).to.equal(0);
    expect(out.stdout).to.match(/^SOURCE\s+DESTINATION\s+METHOD\s+PATH\s+COUNT\s+SUCCESS\s+BEST\s+WORST\s+LAST$/m);
    expect(out.stdout).to.match(/^frontend\.default\s+catalog\.default\s+GET\s+\/hot\s+[1-9]\d*\s+100\.00%/m);
  });

  it('top without --duration, its stdout a pipe: a plain table every interval, no terminal escape codes', async () => {
    const top = mesh.group.spawn({ name: 'weftctl-top', script: programPath('weftctl'), args: ['--config', configPath, 'top', '--from', 'frontend', '--direction', 'outbound'] });
    try {
      let tables = 0;
      const stop = top.onLine((l) => void (l.stream === 'stdout' && l.text.includes('SOURCE') && tables++));
      // Traffic until two snapshots with the path in them have arrived (one per 2s interval).
      await waitFor('two snapshots from weftctl top', async () => {
        await callVia(frontend, 'catalog', { path: '/live' });
        const hot = top.lines().filter((l) => /^frontend\.default\s+catalog\.default\s+GET\s+\/live\s+[1-9]/.test(l.text)).length;
        return tables >= 2 && hot >= 2 ? true : undefined;
      }, 30_000);
      stop();
    } finally {
      await mesh.group.stop(top, 'SIGINT');
    }
    const stdout = top.lines().filter((l) => l.stream === 'stdout').map((l) => l.text);
    expect(stdout.join('\n')).not.to.contain('\x1b');
    // Each snapshot: its time, then the table.
    const headers = stdout.flatMap((line, i) => (line.startsWith('SOURCE') ? [i] : []));
    for (const i of headers) expect(stdout[i - 1], `the line before table at ${i}`).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('refuses a tap to anyone but the operator (a workload certificate)', async () => {
    const op = readOperatorConfig(configPath);
    const orders = await workloadCredential(op, await mesh.createToken('orders'), 'orders');
    const dir = await mesh.tempDir('workload-weftctl');
    const config = path.join(dir, 'weftctl.json');
    await fs.writeFile(config, JSON.stringify({ ...op, certificatePem: orders.certificatePem, privateKeyPem: orders.privateKeyPem }), { mode: 0o600 });
    for (const args of [['tap', '--duration', '2s'], ['stat'], ['edges']]) {
      const r = await weftctl(args, { config });
      expect(r.code, args.join(' ')).to.equal(1);
      expect(r.stderr).to.contain('the control plane refused the operator credential').and.contain(`presented ${orders.spiffeId}`);
      expect(r.stdout).to.equal('');
    }
  });
});
