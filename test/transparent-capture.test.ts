/**
 * Transparent capture, proven with network namespaces this test builds: four "hosts" on a bridge
 * of their own (10.77.N.0/24), apps that know nothing of Weft (a Node HTTP server, a TCP echo,
 * curl), and in three of them a sidecar running as `nobody` with weft-init's rules installed.
 * The apps call each other by name and by address; the test checks the calls crossed the mesh
 * (identity at the app, metrics at both sidecars), that STRICT refuses a non-mesh caller, that
 * excluded ports bypass the sidecar, that REGISTRY_ONLY refuses what ALLOW_ANY passed through,
 * and that --uninstall leaves the rules as they were.
 */
import { execFile } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import {
  findFreePort,
  httpRequest,
  Mesh,
  netnsUnavailable,
  parsePrometheusText,
  programPath,
  repoRoot,
  runProgram,
  SPAN_KIND,
  startOtlpReceiver,
  sumSamples,
  waitFor,
  type ManagedProcess,
  type OtlpReceiver,
  type RunResult,
} from '@weft/harness';
import { API, apply } from './fixtures';

const run = promisify(execFile);
const NOBODY = 65534;
const HTTP_PORT = 8080;
/** Served by the orders host too, but excluded from its capture: reached without the sidecar. */
const EXCLUDED_INBOUND_PORT = 8081;
/** Served by the orders host, captured, but not its sidecar's --app-port: relayed as plain TCP in PERMISSIVE only. */
const OTHER_INBOUND_PORT = 8082;
const ECHO_PORT = 7000;
/** A server on the outside host, outside the mesh. */
const OUTSIDE_PORT = 8090;
/** Excluded from web's outbound capture: web reaches it directly, whatever the mesh says. */
const OUTSIDE_EXCLUDED_PORT = 8091;
const INIT = path.join(repoRoot(), 'packages', 'sidecar', 'bin', 'weft-init.js');

interface Host {
  readonly name: string;
  readonly ns: string;
  readonly address: string;
  readonly veth: string;
}

/** A tiny app: answers HTTP with what it received (headers included), or echoes TCP bytes. */
const APP_SOURCE = `
const http = require('node:http'), net = require('node:net');
const [kind, ...ports] = process.argv.slice(2);
for (const port of ports.map(Number)) {
  const server = kind === 'http'
    ? http.createServer((req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ port, url: req.url, headers: req.headers })))
    : net.createServer((s) => s.pipe(s));
  server.listen(port, '0.0.0.0', () => console.log(JSON.stringify({ msg: 'listening', port })));
}`;

/** A TCP client: connects by name or address, sends a line, prints what came back. */
const TCP_CLIENT_SOURCE = `
const net = require('node:net');
const [host, port, text] = process.argv.slice(2);
const s = net.connect(Number(port), host, () => s.write(text));
let got = '';
s.on('data', (d) => { got += d; if (got.length >= text.length) { process.stdout.write(got, () => process.exit(0)); } });
s.on('error', (e) => { console.error(e.code || e.message); process.exit(3); });
setTimeout(() => { console.error('timeout'); process.exit(4); }, 10000);`;

describe('transparent capture (network namespaces, iptables, SO_ORIGINAL_DST)', function () {
  this.timeout(180_000);
  const mesh = new Mesh();
  const subnet = `10.77.${randomInt(0, 255)}`;
  const tag = `${process.pid % 10_000}${randomInt(0, 1000)}`;
  const bridge = `wcb${tag}`;
  const hosts: Record<'web' | 'orders' | 'echo' | 'outside', Host> = {
    web: host('web', 11),
    orders: host('orders', 12),
    echo: host('echo', 13),
    outside: host('outside', 14),
  };
  const cleanups: (() => Promise<unknown>)[] = [];
  let dir = '';
  let rulesBefore = '';
  let receiver: OtlpReceiver | undefined;

  function host(name: string, octet: number): Host {
    return { name, ns: `wc-${name}-${tag}`, address: `${subnet}.${octet}`, veth: `wc${octet}${tag}` };
  }

  const inNs = (h: Host, command: string, args: readonly string[], timeoutMs = 20_000): Promise<RunResult> =>
    runProgram('ip', ['netns', 'exec', h.ns, command, ...args], { timeoutMs });
  const curl = (from: Host, url: string, extra: readonly string[] = []): Promise<RunResult> =>
    inNs(from, 'curl', ['-sS', '--max-time', '10', ...extra, url]);
  const rulesOf = async (h: Host): Promise<string> =>
    // Counters change with traffic; the rules are what must come back.
    (await inNs(h, 'iptables-save', [])).stdout.split('\n').filter((l) => !l.startsWith('#')).map((l) => l.replace(/\[\d+:\d+\]/g, '')).join('\n');
  const weftInit = async (h: Host, args: readonly string[]): Promise<RunResult> => {
    const result = await inNs(h, process.execPath, [INIT, ...args]);
    if (result.code !== 0) throw new Error(`weft-init ${args.join(' ')} in ${h.name} failed (exit ${result.code}): ${result.stderr}`);
    return result;
  };
  const metrics = async (h: Host): Promise<ReturnType<typeof parsePrometheusText>> =>
    parsePrometheusText((await httpRequest({ host: h.address, port: 15000, path: '/metrics' })).body.toString());

  before(async function () {
    const why = await netnsUnavailable();
    if (why) {
      console.log(`      skipped: ${why}`);
      this.skip();
    }
    dir = await mesh.tempDir('capture');
    await fs.chmod(dir, 0o755);
    await fs.writeFile(path.join(dir, 'app.js'), APP_SOURCE);
    await fs.writeFile(path.join(dir, 'tcp-client.js'), TCP_CLIENT_SOURCE);

    await run('ip', ['link', 'add', bridge, 'type', 'bridge']);
    cleanups.push(() => run('ip', ['link', 'del', bridge]));
    await run('ip', ['addr', 'add', `${subnet}.1/24`, 'dev', bridge]);
    await run('ip', ['link', 'set', bridge, 'up']);
    for (const h of Object.values(hosts)) {
      await run('ip', ['netns', 'add', h.ns]);
      cleanups.push(() => run('ip', ['netns', 'del', h.ns]));
      // `ip netns exec` mounts these over /etc: the app's resolver is ours, whatever the host has.
      const etc = path.join('/etc/netns', h.ns);
      await fs.mkdir(etc, { recursive: true });
      cleanups.push(() => fs.rm(etc, { recursive: true, force: true }));
      await fs.writeFile(path.join(etc, 'resolv.conf'), `nameserver ${subnet}.1\noptions timeout:2 attempts:1\n`);
      await run('ip', ['link', 'add', h.veth, 'type', 'veth', 'peer', 'name', `${h.veth}p`]);
      cleanups.push(() => run('ip', ['link', 'del', h.veth]));
      await run('ip', ['link', 'set', `${h.veth}p`, 'netns', h.ns]);
      await run('ip', ['link', 'set', h.veth, 'master', bridge, 'up']);
      for (const args of [['addr', 'add', `${h.address}/24`, 'dev', `${h.veth}p`], ['link', 'set', `${h.veth}p`, 'up'], ['link', 'set', 'lo', 'up']]) {
        await run('ip', ['netns', 'exec', h.ns, 'ip', ...args]);
      }
    }

    // The control plane in this namespace, on the bridge; sidecars reach it across their veths.
    const cpAddress = `${subnet}.1:${await findFreePort()}`;
    const cp = await mesh.startControlPlane({ extraArgs: ['--listen', cpAddress, '--advertise', cpAddress] });
    receiver = await startOtlpReceiver({ host: `${subnet}.1` });
    await apply(mesh, `${API}\nkind: MeshConfig\nmetadata: {name: default}\nspec: {tracing: {otlpEndpoint: "${receiver.endpoint}", samplingPercent: 100}}\n`);

    // An operator's own rule in orders' nat table: uninstall must leave it, and only it.
    await inNs(hosts.orders, 'iptables', ['-t', 'nat', '-A', 'OUTPUT', '-p', 'tcp', '--dport', '9', '-j', 'RETURN']);
    rulesBefore = await rulesOf(hosts.orders);

    const common = ['--proxy-uid', String(NOBODY), '--control-plane-port', String(cp.grpcPort)];
    await weftInit(hosts.web, [...common, '--dns', '--exclude-outbound-ports', String(OUTSIDE_EXCLUDED_PORT)]);
    await weftInit(hosts.orders, [...common, '--exclude-inbound-ports', String(EXCLUDED_INBOUND_PORT)]);
    await weftInit(hosts.orders, [...common, '--exclude-inbound-ports', String(EXCLUDED_INBOUND_PORT)]); // twice: harmless
    await weftInit(hosts.echo, common);

    await startApp(hosts.orders, 'http', [HTTP_PORT, EXCLUDED_INBOUND_PORT, OTHER_INBOUND_PORT]);
    await startApp(hosts.echo, 'tcp', [ECHO_PORT]);
    await startApp(hosts.outside, 'http', [OUTSIDE_PORT, OUTSIDE_EXCLUDED_PORT]);
    await Promise.all([
      startSidecar(hosts.web, 'web', HTTP_PORT, cpAddress, ['--dns-port', '15053']),
      startSidecar(hosts.orders, 'orders', HTTP_PORT, cpAddress, []),
      startSidecar(hosts.echo, 'echo', ECHO_PORT, cpAddress, ['--app-protocol', 'tcp']),
    ]);
    // web learns where orders and echo are once the control plane verified their addresses.
    await waitFor('web to reach orders by name', async () => {
      const r = await curl(hosts.web, `http://orders:${HTTP_PORT}/warm`);
      return r.code === 0 && r.stdout.includes('x-weft-peer-identity');
    }, 30_000, 300);
  });

  after(async () => {
    await mesh.close();
    await receiver?.close();
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  });

  async function startApp(h: Host, kind: 'http' | 'tcp', ports: readonly number[]): Promise<ManagedProcess> {
    const proc = mesh.group.spawn({ name: `app-${h.name}`, script: path.join(dir, 'app.js'), args: [kind, ...ports.map(String)], wrapper: ['ip', 'netns', 'exec', h.ns] });
    for (const port of ports) await mesh.group.waitForLog(proc, (e) => e['msg'] === 'listening' && e['port'] === port, 10_000);
    return proc;
  }

  async function startSidecar(h: Host, service: string, appPort: number, controlPlane: string, extra: readonly string[]): Promise<void> {
    const tokenFile = path.join(dir, `${service}.token`);
    await fs.writeFile(tokenFile, await mesh.createToken(service), { mode: 0o600 });
    await fs.chown(tokenFile, NOBODY, NOBODY);
    const proc = mesh.group.spawn({
      name: `sidecar-${service}`,
      script: programPath('sidecar'),
      cwd: repoRoot(),
      wrapper: ['ip', 'netns', 'exec', h.ns, 'setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups'],
      args: ['--service', service, '--app-port', String(appPort), '--control-plane', controlPlane, '--token-file', tokenFile, '--advertise-address', h.address, ...extra],
    });
    await mesh.group.waitForLog(proc, (e) => e['msg'] === 'ready', 30_000);
  }

  function reply(r: RunResult): { port: number; headers: Record<string, string> } {
    expect(r.code, `curl failed: ${r.stderr}`).to.equal(0);
    return JSON.parse(r.stdout) as { port: number; headers: Record<string, string> };
  }

  it('carries plain curl by name across the mesh: the app sees the caller\'s identity, both sidecars count it, a span pair is exported', async () => {
    const before = sumSamples(await metrics(hosts.orders), 'weft_requests_total', { direction: 'inbound', source: 'web.default' });
    const traceId = randomBytes(16).toString('hex');
    const r = reply(await curl(hosts.web, `http://orders:${HTTP_PORT}/by-name`, ['-H', `traceparent: 00-${traceId}-${randomBytes(8).toString('hex')}-01`]));
    expect(r.headers['x-weft-peer-identity']).to.equal('spiffe://weft.local/ns/default/sa/web');
    // A span pair: web's CLIENT span and orders' SERVER span under it, in the app's trace.
    const spans = (await receiver!.waitForSpans((all) => all.filter((s) => s.traceId === traceId).length >= 2, 15_000)).filter((s) => s.traceId === traceId);
    const client = spans.find((s) => s.kind === SPAN_KIND.CLIENT && s.serviceName === 'web');
    const server = spans.find((s) => s.kind === SPAN_KIND.SERVER && s.serviceName === 'orders');
    expect(client, JSON.stringify(spans.map((s) => [s.serviceName, s.kind]))).to.not.equal(undefined);
    expect(server?.parentSpanId).to.equal(client?.spanId);
    expect(r.port).to.equal(HTTP_PORT);
    expect(sumSamples(await metrics(hosts.orders), 'weft_requests_total', { direction: 'inbound', source: 'web.default' })).to.equal(before + 1);
    expect(sumSamples(await metrics(hosts.web), 'weft_requests_total', { direction: 'outbound', destination: 'orders.default' })).to.be.greaterThan(0);
  });

  it('carries curl by address (the Host is an IP) the same way', async () => {
    const r = reply(await curl(hosts.web, `http://${hosts.orders.address}:${HTTP_PORT}/by-address`));
    expect(r.headers['x-weft-peer-identity']).to.equal('spiffe://weft.local/ns/default/sa/web');
  });

  it('carries raw TCP by name through an mTLS tunnel to the destination\'s sidecar', async () => {
    const r = await inNs(hosts.web, process.execPath, [path.join(dir, 'tcp-client.js'), 'echo', String(ECHO_PORT), 'ping over the mesh']);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.equal('ping over the mesh');
    expect(sumSamples(await metrics(hosts.echo), 'weft_tcp_connections_opened_total', { direction: 'inbound', source: 'web.default' })).to.be.greaterThan(0);
    expect(sumSamples(await metrics(hosts.web), 'weft_tcp_connections_opened_total', { direction: 'outbound', destination: 'echo.default' })).to.be.greaterThan(0);
  });

  it('STRICT refuses a caller without a sidecar; an excluded inbound port is reached directly', async () => {
    const refused = await curl(hosts.outside, `http://${hosts.orders.address}:${HTTP_PORT}/no-mesh`);
    expect(refused.code, refused.stdout).to.not.equal(0);
    const other = await curl(hosts.outside, `http://${hosts.orders.address}:${OTHER_INBOUND_PORT}/no-mesh`);
    expect(other.code, other.stdout).to.not.equal(0);
    const direct = reply(await curl(hosts.outside, `http://${hosts.orders.address}:${EXCLUDED_INBOUND_PORT}/excluded`));
    expect(direct.port).to.equal(EXCLUDED_INBOUND_PORT);
    expect(direct.headers['x-weft-peer-identity']).to.equal(undefined);
  });

  it('passes a destination outside the mesh through (ALLOW_ANY), refuses it under REGISTRY_ONLY, counted; excluded ports bypass', async () => {
    const passed = reply(await curl(hosts.web, `http://${hosts.outside.address}:${OUTSIDE_PORT}/out`));
    expect(passed.port).to.equal(OUTSIDE_PORT);
    expect(sumSamples(await metrics(hosts.web), 'weft_tcp_connections_opened_total', { direction: 'outbound', destination: 'passthrough' })).to.be.greaterThan(0);

    await apply(mesh, `${API}\nkind: MeshConfig\nmetadata: {name: default}\nspec: {outboundTrafficPolicy: REGISTRY_ONLY}\n`);
    await waitFor('REGISTRY_ONLY to be in force at web', async () => (await curl(hosts.web, `http://${hosts.outside.address}:${OUTSIDE_PORT}/out`)).code !== 0, 30_000, 300);
    const refusals = sumSamples(await metrics(hosts.web), 'weft_tcp_connections_closed_total', { direction: 'outbound', destination: 'passthrough', error: 'WEFT_ERR_REGISTRY_ONLY' });
    expect(refusals).to.be.greaterThan(0);
    // Mesh services still work, and the excluded port never meets the sidecar.
    expect(reply(await curl(hosts.web, `http://orders:${HTTP_PORT}/still`)).headers['x-weft-peer-identity']).to.equal('spiffe://weft.local/ns/default/sa/web');
    expect(reply(await curl(hosts.web, `http://${hosts.outside.address}:${OUTSIDE_EXCLUDED_PORT}/excluded`)).port).to.equal(OUTSIDE_EXCLUDED_PORT);
  });

  it('PERMISSIVE lets the non-mesh caller in, with no identity, to the port it dialled', async () => {
    await apply(mesh, `${API}\nkind: MeshConfig\nmetadata: {name: default}\nspec: {mtls: PERMISSIVE}\n`);
    await waitFor('PERMISSIVE to be in force at orders', async () => (await curl(hosts.outside, `http://${hosts.orders.address}:${HTTP_PORT}/plain`)).code === 0, 30_000, 300);
    const r = reply(await curl(hosts.outside, `http://${hosts.orders.address}:${HTTP_PORT}/plain`));
    expect(r.headers['x-weft-peer-identity']).to.equal(undefined);
    // Another captured port reaches that port, not the sidecar's --app-port.
    expect(reply(await curl(hosts.outside, `http://${hosts.orders.address}:${OTHER_INBOUND_PORT}/plain`)).port).to.equal(OTHER_INBOUND_PORT);
  });

  it('installed once however often weft-init ran; --uninstall leaves the rules as they were', async () => {
    const installed = await rulesOf(hosts.orders);
    expect(installed.match(/-j WEFT_OUTPUT/g)).to.have.length(1);
    expect(installed.match(/-j WEFT_PREROUTING/g)).to.have.length(1);
    const out = await weftInit(hosts.orders, ['--uninstall']);
    expect(out.stdout).to.match(/iptables backend (nf_tables|legacy)/);
    expect(await rulesOf(hosts.orders)).to.equal(rulesBefore);
    const again = await weftInit(hosts.orders, ['--uninstall']);
    expect(again.stdout).to.include('nothing to remove');
  });
});
