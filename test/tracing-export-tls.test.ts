/**
 * Span export to a collector that requires TLS with a client certificate and an API key header,
 * as hosted tracing backends do, configured with `--otlp-*-file` flags naming files on the sidecar
 * host (never MeshConfig, which every sidecar receives and /config shows). A sidecar given the
 * wrong CA cannot verify the collector: its spans are dropped and counted, its traffic is not
 * touched. Real processes, a real OTLP/gRPC receiver over TLS, loopback only.
 */
import { expect } from 'chai';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { httpGetText, Mesh, parsePrometheusText, startOtlpReceiver, sumSamples, waitFor, type OtlpReceiver, type Sidecar } from '@weft/harness';
import { CertificateAuthority, generateKeyPair } from '@weft/pki';
import { API, apply, callVia, sidecarConfig, startEchoApp, type EchoApp } from './fixtures';

const API_KEY = 's3cr3t-otlp-api-key';

/** A leaf from `ca` with a fresh key, for the receiver (server) or a sidecar (client). */
function leaf(ca: CertificateAuthority, usage: 'server' | 'client'): { certPem: string; keyPem: string } {
  const keys = generateKeyPair();
  const issued = ca.issue({ publicKeyPem: keys.publicKeyPem, ttlMs: 3_600_000, usage, commonName: `otlp-${usage}`, ...(usage === 'server' ? { ipAddresses: ['127.0.0.1'] } : { dnsNames: ['sidecar'] }) });
  return { certPem: issued.chainPem.join(''), keyPem: keys.privateKeyPem };
}

describe('tracing: export over TLS with a client certificate and headers from files on the sidecar host', function () {
  this.timeout(120_000);
  const mesh = new Mesh();
  const apps: EchoApp[] = [];
  let receiver: OtlpReceiver;
  let frontend: Sidecar;
  let misconfigured: Sidecar;
  const flags: { good: string[]; wrongCa: string[] } = { good: [], wrongCa: [] };

  before(async () => {
    const ca = CertificateAuthority.createRoot('collector.test');
    const elsewhere = CertificateAuthority.createRoot('elsewhere.test');
    const server = leaf(ca, 'server');
    const client = leaf(ca, 'client');
    receiver = await startOtlpReceiver({ tls: { ...server, clientCaPem: ca.rootPem } });

    const dir = await mesh.tempDir('otlp-client');
    const file = async (name: string, text: string): Promise<string> => {
      const at = path.join(dir, name);
      await fs.writeFile(at, text, { mode: 0o600 });
      return at;
    };
    const common = ['--otlp-cert-file', await file('client.pem', client.certPem), '--otlp-key-file', await file('client.key', client.keyPem)];
    const headers = await file('headers', `# the hosted backend's credentials\nx-api-key: ${API_KEY}\n\nX-Tenant: team-a\n`);
    flags.good = ['--otlp-ca-file', await file('ca.pem', ca.rootPem), ...common, '--otlp-headers-file', headers];
    flags.wrongCa = ['--otlp-ca-file', await file('wrong-ca.pem', elsewhere.rootPem), ...common, '--otlp-headers-file', headers];

    const cp = await mesh.startControlPlane();
    await apply(mesh, `${API}\nkind: MeshConfig\nmetadata: {name: default}\nspec: {tracing: {otlpEndpoint: "${receiver.endpoint}", samplingPercent: 100}}\n`);
    const [inventoryApp, frontendApp, otherApp] = await Promise.all(['inventory', 'frontend', 'reports'].map((name) => startEchoApp(name)));
    apps.push(inventoryApp!, frontendApp!, otherApp!);
    [frontend, misconfigured] = await Promise.all([
      mesh.startSidecar({ service: 'frontend', appPort: frontendApp!.port, token: await mesh.createToken('frontend'), controlPlane: cp.endpoint, extraArgs: flags.good }),
      mesh.startSidecar({ service: 'reports', appPort: otherApp!.port, token: await mesh.createToken('reports'), controlPlane: cp.endpoint, extraArgs: flags.wrongCa }),
      mesh.startSidecar({ service: 'inventory', appPort: inventoryApp!.port, token: await mesh.createToken('inventory'), controlPlane: cp.endpoint, extraArgs: flags.good }),
    ]);
    await waitFor('frontend to reach inventory', async () => ((await callVia(frontend, 'inventory')).status === 200 ? true : undefined), 30_000);
  });

  after(async () => {
    await mesh.close();
    await Promise.all([receiver?.close(), ...apps.map((a) => a.close())]);
  });

  it('delivers both sidecars\' spans to the collector over mutual TLS, with the headers from the file', async () => {
    expect((await callVia(frontend, 'inventory', { path: '/traced' })).status).to.equal(200);
    const spans = await receiver.waitForSpans((all) => ['frontend', 'inventory'].every((s) => all.some((x) => x.serviceName === s && x.attributes['url.path'] === '/traced')), 20_000);
    expect(spans.filter((s) => s.attributes['url.path'] === '/traced').map((s) => s.name).sort()).to.include.members(['inbound inventory', 'outbound inventory']);
    const exports = receiver.metadata();
    expect(exports.length).to.be.greaterThan(0);
    for (const headers of exports) expect(headers).to.include({ 'x-api-key': API_KEY, 'x-tenant': 'team-a' });
  });

  it('never shows the header values: not in /config, not in proxy-config, not in the sidecar log', async () => {
    expect(JSON.stringify(await sidecarConfig(frontend))).to.not.contain(API_KEY);
    const dump = await mesh.weftctl(['proxy-config', 'frontend.default', '-o', 'json']);
    expect(dump.code, dump.stderr).to.equal(0);
    expect(dump.stdout).to.not.contain(API_KEY);
    const log = frontend.proc.lines().map((l) => l.text).join('\n');
    expect(log).to.not.contain(API_KEY);
    // What it may say: TLS on, a client certificate, which header names.
    const line = frontend.proc.lines().find((l) => l.json?.['msg'] === 'span export client settings from files');
    expect(line?.json?.['otlp']).to.deep.equal({ tls: true, clientCertificate: true, headers: ['x-api-key', 'x-tenant'] });
  });

  it('with the wrong CA, the collector cannot be verified: spans are dropped and counted, requests are unaffected', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => callVia(misconfigured, 'inventory', { path: `/unverified/${i}` })));
    expect(results.map((r) => r.status)).to.deep.equal(Array<number>(20).fill(200));
    const dropped = await waitFor('the misconfigured sidecar to count its failed exports', async () => {
      const samples = parsePrometheusText(await httpGetText(misconfigured.adminPort, '/metrics'));
      const n = sumSamples(samples, 'weft_spans_dropped_total', { reason: 'export_failed' });
      return n > 0 ? n : undefined;
    }, 30_000);
    expect(dropped).to.be.greaterThan(0);
    // Its spans never arrived, while the inventory side of the same requests did.
    await receiver.waitForSpans((all) => all.some((s) => s.serviceName === 'inventory' && String(s.attributes['url.path']).startsWith('/unverified/')), 20_000);
    expect(receiver.spans().filter((s) => s.serviceName === 'reports')).to.deep.equal([]);
  });
});
