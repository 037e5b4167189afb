import { expect } from 'chai';
import { X509Certificate } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { CertificateAuthority, createCsr, generateKeyPair, parseCsr } from '@weft/pki';
import { httpRequest, Mesh, waitFor, type Sidecar } from '@weft/harness';
import { API, apply, callVia, echoOf, getJson, sidecarConfig, startEchoApp, type EchoApp } from './fixtures';

/** What a TLS client gets from an inbound port: the server's certificate and any HTTP answer. */
async function probeInbound(port: number, client: { key?: string; cert?: string; ca?: string }): Promise<{ serverCert?: tls.DetailedPeerCertificate; answer: string; error?: string }> {
  return new Promise((resolve) => {
    let serverCert: tls.DetailedPeerCertificate | undefined;
    let answer = '';
    const socket = tls.connect({ host: '127.0.0.1', port, ...client, rejectUnauthorized: false, checkServerIdentity: () => undefined });
    socket.on('secureConnect', () => {
      serverCert = socket.getPeerCertificate(true);
      socket.write('GET / HTTP/1.1\r\nHost: inventory\r\nConnection: close\r\n\r\n');
    });
    socket.on('data', (d: Buffer) => (answer += d.toString()));
    socket.on('close', () => resolve({ ...(serverCert ? { serverCert } : {}), answer }));
    socket.on('error', (err) => resolve({ ...(serverCert ? { serverCert } : {}), answer, error: err.message }));
    socket.setTimeout(5000, () => socket.destroy(new Error('timeout')));
  });
}

describe('mTLS and workload identity, through real sidecars', function () {
  this.timeout(60_000);
  const mesh = new Mesh();
  let inventoryApp: EchoApp;
  let frontendApp: EchoApp;
  let inventory: Sidecar;
  let frontend: Sidecar;
  let rootPem: string;

  before(async () => {
    const cp = await mesh.startControlPlane();
    rootPem = (JSON.parse(fs.readFileSync(cp.configPath, 'utf8')) as { caPem: string }).caPem;
    await apply(mesh, `${API}\nkind: MeshConfig\nmetadata: {name: default}\nspec: {certificateTTL: 2h}\n`);
    inventoryApp = await startEchoApp('inventory');
    frontendApp = await startEchoApp('frontend');
    [inventory, frontend] = await Promise.all([
      mesh.startSidecar({ service: 'inventory', appPort: inventoryApp.port, token: await mesh.createToken('inventory'), controlPlane: cp.endpoint }),
      mesh.startSidecar({ service: 'frontend', appPort: frontendApp.port, token: await mesh.createToken('frontend'), controlPlane: cp.endpoint }),
    ]);
    await waitFor('frontend to reach inventory', async () => ((await callVia(frontend, 'inventory')).status === 200 ? true : undefined));
  });

  after(async () => {
    await mesh.close();
    await Promise.all([inventoryApp?.close(), frontendApp?.close()]);
  });

  it("delivers a request through two sidecars with the caller's verified identity", async () => {
    const reply = echoOf(await callVia(frontend, 'inventory', { path: '/items?id=7' }));
    expect(reply.app).to.equal('inventory');
    expect(reply.url).to.equal('/items?id=7');
    expect(reply.headers['x-weft-peer-identity']).to.equal('spiffe://weft.local/ns/default/sa/frontend');
  });

  it('works as the app\'s http_proxy: an absolute-form request names the destination', async () => {
    // What `http_proxy=http://127.0.0.1:15001 curl http://inventory/items` sends.
    const res = await httpRequest({ port: frontend.outboundPort, path: 'http://inventory/items?via=proxy', headers: { host: 'inventory' } });
    const reply = echoOf(res);
    expect(reply.url).to.equal('/items?via=proxy');
    expect(reply.headers['x-weft-peer-identity']).to.equal('spiffe://weft.local/ns/default/sa/frontend');
  });

  it('replaces an identity header the calling app made up', async () => {
    const reply = echoOf(await callVia(frontend, 'inventory', { headers: { 'x-weft-peer-identity': 'spiffe://weft.local/ns/default/sa/admin' } }));
    expect(reply.headers['x-weft-peer-identity']).to.equal('spiffe://weft.local/ns/default/sa/frontend');
  });

  it('serves a certificate issued by the mesh CA, for the SPIFFE ID of the service, with the configured TTL', async () => {
    const { serverCert } = await probeInbound(inventory.inboundPort, {});
    expect(serverCert, 'the inbound port presented no certificate').to.not.equal(undefined);
    const leaf = new X509Certificate(serverCert!.raw);
    expect(leaf.verify(new X509Certificate(rootPem).publicKey)).to.equal(true);
    expect(leaf.subjectAltName).to.equal('URI:spiffe://weft.local/ns/default/sa/inventory');
    const ttlMs = Date.parse(leaf.validTo) - Date.parse(leaf.validFrom);
    // Leaves start a minute early to absorb clock skew: 2h + 1m.
    expect(ttlMs).to.be.closeTo(2 * 3_600_000 + 60_000, 5_000);
    const config = await sidecarConfig(inventory);
    expect(config.identity.spiffeId).to.equal('spiffe://weft.local/ns/default/sa/inventory');
  });

  it('refuses clients without a mesh certificate: none, plaintext, or one from another CA', async () => {
    const before = inventoryApp.received.length;

    const none = await probeInbound(inventory.inboundPort, {});
    expect(none.answer).to.not.match(/^HTTP\/1\.1 200/);

    const stranger = CertificateAuthority.createRoot('weft.local');
    const key = generateKeyPair();
    const csr = parseCsr(createCsr('spiffe://weft.local/ns/default/sa/frontend', key.privateKeyPem));
    const forged = stranger.issue({ publicKeyPem: csr.publicKeyPem, uris: csr.uris, ttlMs: 60_000, usage: 'workload' });
    const foreign = await probeInbound(inventory.inboundPort, { key: key.privateKeyPem, cert: forged.certificatePem });
    expect(foreign.answer).to.not.match(/^HTTP\/1\.1 200/);

    const plain = await new Promise<string>((resolve) => {
      const socket = net.connect(inventory.inboundPort, '127.0.0.1');
      let data = '';
      socket.on('connect', () => socket.write('GET / HTTP/1.1\r\nHost: inventory\r\n\r\n'));
      socket.on('data', (d: Buffer) => (data += d.toString('latin1')));
      socket.on('close', () => resolve(data));
      socket.on('error', () => resolve(data));
      socket.setTimeout(5000, () => socket.destroy());
    });
    expect(plain).to.not.match(/^HTTP\/1\.1 200/);

    expect(inventoryApp.received.length, 'the app must not see any of these requests').to.equal(before);
  });

  it('answers 503 naming the problem for a service that has no endpoints in the mesh', async () => {
    const res = await callVia(frontend, 'payments');
    expect(res.status).to.equal(503);
    expect(res.body).to.include('"payments" has no endpoints in the mesh');
  });

  it('reports both proxies SYNCED, with identity and certificate expiry, in weftctl proxy-status', async () => {
    const out = await mesh.weftctl(['proxy-status', '-o', 'json']);
    expect(out.code, out.stderr).to.equal(0);
    const proxies = JSON.parse(out.stdout) as { name: string; status: string; spiffeId: string; certificateExpiresAtMs: number; ackedVersion: string }[];
    expect(proxies.map((p) => p.name).sort()).to.deep.equal(['frontend.default', 'inventory.default']);
    for (const p of proxies) {
      expect(p.status, p.name).to.equal('SYNCED');
      expect(p.spiffeId).to.equal(`spiffe://weft.local/ns/default/sa/${p.name.split('.')[0]}`);
      expect(p.certificateExpiresAtMs).to.be.closeTo(Date.now() + 2 * 3_600_000, 120_000);
    }
    const view = await sidecarConfig(frontend);
    expect(proxies.find((p) => p.name === 'frontend.default')?.ackedVersion).to.equal(view.config.version);
  });

  it('is ready, and never shows key material on its admin port', async () => {
    for (const sidecar of [inventory, frontend]) {
      const ready = await getJson<unknown>(sidecar.adminPort, '/config');
      expect(ready.status).to.equal(200);
      const text = JSON.stringify(ready.body);
      expect(text).to.not.match(/PRIVATE KEY|privateKey/i);
    }
    const res = await httpRequest({ port: frontend.adminPort, path: '/ready' });
    expect(res.status).to.equal(200);
  });
});
