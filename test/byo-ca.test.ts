import { expect } from 'chai';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { Mesh, programPath, runNode, waitFor, type Sidecar } from '@weft/harness';
import { CertificateAuthority, certificateFingerprint, certificateInfo, generateKeyPair, verifyChain } from '@weft/pki';
import { callVia, echoOf, sidecarConfig, startMeshedEchoApp, type EchoApp } from './fixtures';
import { servedChain } from './tls-chain';

interface TrustView {
  identity: { trustBundleFingerprints: string[]; certificateRootFingerprint: string };
}

describe('bring your own CA: an operator root -> intermediate signs the mesh', function () {
  this.timeout(60_000);
  const mesh = new Mesh();
  const apps: EchoApp[] = [];
  // The operator's PKI, made here as an operator would with their own tools.
  const root = CertificateAuthority.createRoot('weft.local', 365, 'ACME Corp root');
  const intermediate = root.issueSubordinate({ commonName: 'ACME mesh issuing CA', ttlMs: 90 * 86_400_000, pathLength: 0 });
  const rootFp = certificateFingerprint(root.rootPem);
  let files: Record<'cert' | 'key' | 'root' | 'wrongKey', string>;
  let shop: Sidecar;
  let stock: Sidecar;

  const meshed = async (service: string): Promise<Sidecar> => (await startMeshedEchoApp(mesh, apps, { service })).sidecar;

  before(async () => {
    const dir = await mesh.tempDir('operator-ca');
    files = { cert: path.join(dir, 'issuing-ca.pem'), key: path.join(dir, 'issuing-ca-key.pem'), root: path.join(dir, 'root.pem'), wrongKey: path.join(dir, 'other-key.pem') };
    await fs.writeFile(files.cert, intermediate.certificatePem);
    await fs.writeFile(files.key, intermediate.privateKeyPem, { mode: 0o600 });
    await fs.writeFile(files.root, root.rootPem);
    await fs.writeFile(files.wrongKey, generateKeyPair().privateKeyPem, { mode: 0o600 });
  });

  after(async () => {
    await mesh.close();
    await Promise.all(apps.map((a) => a.close()));
  });

  it('refuses unusable CA files at start, naming the file and what to bring', async () => {
    const dataDir = await mesh.tempDir('refused');
    const base = ['--data-dir', dataDir, '--listen', '127.0.0.1:0', '--http', '127.0.0.1:0'];
    const wrongKey = await runNode(programPath('controlPlane'), [...base, '--ca-cert', files.cert, '--ca-key', files.wrongKey, '--root-cert', files.root]);
    expect(wrongKey.code).to.equal(1);
    expect(wrongKey.stderr).to.include(`--ca-key ${files.wrongKey} is not the key of the certificate in --ca-cert ${files.cert}`);
    const noRoot = await runNode(programPath('controlPlane'), [...base, '--ca-cert', files.cert, '--ca-key', files.key]);
    expect(noRoot.code).to.equal(1);
    expect(noRoot.stderr).to.include('cannot tell which root workloads should trust').and.include('--root-cert FILE');
    const noKey = await runNode(programPath('controlPlane'), [...base, '--ca-cert', files.cert]);
    expect(noKey.code).to.equal(2);
    expect(noKey.stderr).to.include('--ca-cert needs --ca-key FILE');
    // Nothing was written: the next start with the right files is still a first start.
    expect(await fs.readdir(dataDir).catch(() => [])).to.not.include('mesh.json');
  });

  it('two sidecars talk over mTLS, with leaf chains that verify to the operator root through the intermediate', async () => {
    await mesh.startControlPlane({ extraArgs: ['--ca-cert', files.cert, '--ca-key', files.key, '--root-cert', files.root] });
    [shop, stock] = await Promise.all([meshed('shop'), meshed('stock')]);
    const reply = await waitFor('shop to reach stock', async () => {
      const res = await callVia(shop, 'stock');
      return res.status === 200 ? echoOf(res) : undefined;
    }, 15_000);
    expect(reply.headers['x-weft-peer-identity']).to.equal('spiffe://weft.local/ns/default/sa/shop');
    // Each sidecar learns of the other's endpoint on its own push: wait for the reverse direction too.
    const back = await waitFor('stock to reach shop', async () => {
      const res = await callVia(stock, 'shop');
      return res.status === 200 ? echoOf(res) : undefined;
    }, 15_000);
    expect(back.headers['x-weft-peer-identity']).to.equal('spiffe://weft.local/ns/default/sa/stock');

    for (const sidecar of [shop, stock]) {
      const chain = await servedChain(sidecar.inboundPort);
      expect(chain.map(certificateFingerprint), `${sidecar.service} serves leaf + intermediate`).to.have.length(2);
      expect(certificateFingerprint(chain[1] as string)).to.equal(certificateFingerprint(intermediate.certificatePem));
      expect(certificateInfo(chain[0] as string).issuer).to.include('ACME mesh issuing CA');
      expect(verifyChain(chain, [root.rootPem])).to.deep.equal({ ok: true });
      // The intermediate is not something workloads trust on its own.
      expect(verifyChain(chain.slice(0, 1), [root.rootPem]).ok).to.equal(false);
      const view = (await sidecarConfig(sidecar)) as unknown as TrustView;
      expect(view.identity.trustBundleFingerprints).to.deep.equal([rootFp]);
      expect(view.identity.certificateRootFingerprint).to.equal(rootFp);
    }
    const status = await mesh.weftctl(['ca', 'status']);
    expect(status.code, status.stderr).to.equal(0);
    expect(status.stdout).to.include(`SIGNING:  root ${rootFp.slice(0, 12)}, through intermediate`).and.include('ACME mesh issuing CA');
  });
});
