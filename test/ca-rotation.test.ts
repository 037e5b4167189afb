import { expect } from 'chai';
import * as fs from 'node:fs/promises';
import * as http from 'node:http';
import * as path from 'node:path';
import { Mesh, waitFor, type ControlPlane, type Sidecar } from '@weft/harness';
import { CertificateAuthority, certificateFingerprint, generateKeyPair, verifyChain } from '@weft/pki';
import { callVia, echoOf, Load, sidecarConfig, sleep, startMeshedEchoApp, type EchoApp } from './fixtures';
import { inboundStatusLine, servedChain } from './tls-chain';

/** A client certificate for `service` straight from a CA in the data directory (what a peer sidecar would hold). */
async function clientFrom(dataDir: string, service: string): Promise<{ certificatePem: string; privateKeyPem: string }> {
  const ca = CertificateAuthority.fromPem({
    certificatePem: await fs.readFile(path.join(dataDir, 'ca.pem'), 'utf8'),
    privateKeyPem: await fs.readFile(path.join(dataDir, 'ca-key.pem'), 'utf8'),
  });
  const keys = generateKeyPair();
  const issued = ca.issue({ publicKeyPem: keys.publicKeyPem, ttlMs: 3_600_000, usage: 'workload', uris: [`spiffe://weft.local/ns/default/sa/${service}`] });
  return { certificatePem: issued.chainPem.join(''), privateKeyPem: keys.privateKeyPem };
}

interface CaStatusJson {
  phase: string;
  roots: { fingerprint: string; role: string }[];
  signingRootFingerprint: string;
}

interface ProxyJson {
  proxyId: string;
  service: string;
  connected: boolean;
  certificateRootFingerprint: string;
}

interface TrustView {
  identity: { trustBundleFingerprints: string[]; certificateRootFingerprint: string };
}

describe('root rotation under load: weftctl ca rotate-root', function () {
  this.timeout(90_000);
  const mesh = new Mesh();
  const apps: EchoApp[] = [];
  let cp: ControlPlane;
  let web: Sidecar;
  let api: Sidecar;

  const meshed = async (service: string): Promise<Sidecar> => (await startMeshedEchoApp(mesh, apps, { service })).sidecar;

  async function json<T>(args: string[]): Promise<T> {
    const result = await mesh.weftctl(args);
    if (result.code !== 0) throw new Error(`weftctl ${args.join(' ')} failed (exit ${result.code}): ${result.stderr}`);
    return JSON.parse(result.stdout) as T;
  }

  before(async () => {
    // A short grace: a freshly started control plane holds rotation phases for that long.
    cp = await mesh.startControlPlane({ endpointGrace: '2s' });
    [web, api] = await Promise.all([meshed('web'), meshed('api')]);
  });

  after(async () => {
    await mesh.close();
    await Promise.all(apps.map((a) => a.close()));
  });

  it('loses no request in either direction, and ends with only the new root anywhere', async () => {
    const oldRootPem = await fs.readFile(path.join(cp.dataDir, 'ca.pem'), 'utf8');
    const oldFp = certificateFingerprint(oldRootPem);
    const oldRootClient = await clientFrom(cp.dataDir, 'web');
    expect(await inboundStatusLine(api.inboundPort, 'api', oldRootClient), 'an old-root client before the rotation').to.equal('HTTP/1.1 200 OK');
    for (const [from, to] of [[web, 'api'], [api, 'web']] as const) {
      await waitFor(`${from.service} to reach ${to}`, async () => ((await callVia(from, to)).status === 200 ? true : undefined), 15_000);
    }
    const agents = [new http.Agent({ keepAlive: true, maxSockets: 4 }), new http.Agent({ keepAlive: true, maxSockets: 2 })];
    const loads = [
      new Load(() => callVia(web, 'api', { agent: agents[0] as http.Agent }), 4),
      new Load(() => callVia(api, 'web', { agent: agents[1] as http.Agent }), 2),
    ];
    let rotation;
    try {
      await sleep(500);
      rotation = await mesh.weftctl(['ca', 'rotate-root', '--wait', '--timeout', '60s']);
      // Keep the traffic going a little after the old root is gone.
      await sleep(1_000);
    } finally {
      await Promise.all(loads.map((l) => l.stop()));
      agents.forEach((a) => a.destroy());
    }
    expect(rotation.code, rotation.stderr).to.equal(0);
    expect(rotation.stdout).to.match(/phase overlap[\s\S]*phase reissue[\s\S]*phase retire[\s\S]*rotation complete/);
    for (const load of loads) {
      expect(load.failures(), 'requests that failed during the rotation').to.deep.equal([]);
      expect(load.results.length).to.be.greaterThan(50);
    }
    expect(echoOf(loads[0]?.results.at(-1) as never).app).to.equal('api');

    const status = await json<CaStatusJson>(['ca', 'status', '-o', 'json']);
    expect(status.phase).to.equal('idle');
    expect(status.roots).to.have.length(1);
    const newFp = status.roots[0]?.fingerprint as string;
    expect(newFp).to.not.equal(oldFp);
    expect(status.signingRootFingerprint).to.equal(newFp);
    const newRootPem = await fs.readFile(path.join(cp.dataDir, 'ca.pem'), 'utf8');
    expect(certificateFingerprint(newRootPem)).to.equal(newFp);

    for (const sidecar of [web, api]) {
      // What a new handshake gets: a certificate that verifies to the new root and not to the old one.
      const chain = await servedChain(sidecar.inboundPort);
      expect(verifyChain(chain, [newRootPem]), `${sidecar.service} serves a new-root certificate`).to.deep.equal({ ok: true });
      expect(verifyChain(chain, [oldRootPem]).ok, `${sidecar.service}'s certificate does not verify to the old root`).to.equal(false);
      const view = (await sidecarConfig(sidecar)) as unknown as TrustView;
      expect(view.identity.trustBundleFingerprints, `${sidecar.service} trusts only the new root`).to.deep.equal([newFp]);
      expect(view.identity.certificateRootFingerprint).to.equal(newFp);
      // New handshakes enforce the new bundle: a client holding an old-root certificate is refused.
      expect(await inboundStatusLine(sidecar.inboundPort, sidecar.service, oldRootClient), `${sidecar.service} refuses an old-root client`).to.not.match(/^HTTP\/1\.1/);
      expect(await inboundStatusLine(sidecar.inboundPort, sidecar.service, await clientFrom(cp.dataDir, 'web'))).to.equal('HTTP/1.1 200 OK');
    }
    const proxies = (await json<ProxyJson[]>(['proxy-status', '-o', 'json'])).filter((p) => p.connected);
    expect(proxies.map((p) => [p.service, p.certificateRootFingerprint]).sort()).to.deep.equal([['api', newFp], ['web', newFp]]);
    // weftctl keeps working (weftctl.json was re-issued), and new tokens pin the new root.
    const token = await mesh.createToken('late');
    expect(token.split('.')[1]).to.equal(newFp);
  });
});
