import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import type { CaStatus } from '@weft/api';
import { CertificateAuthority, certificateFingerprint, generateKeyPair, splitPemChain, verifyChain, type CaMaterial } from '@weft/pki';
import { quietLogger, readOperatorConfig } from '@weft/harness';
import { loadOperatorCa, type OperatorCaFiles } from '../../src/ca/byo-ca';
import { ControlPlaneError, parseFlags, startControlPlane, type RunningControlPlane } from '../../src/index';
import { makeTempDir, removeDir } from '../helpers/fixtures';
import { joinAs, makeClient, operatorCredential, unaryCall } from '../helpers/grpc-clients';
import { servedChain } from '../helpers/tls-probe';

/** An operator's PKI: a root, and an intermediate (pathLen 0) that signs the mesh's leaves. */
const root = CertificateAuthority.createRoot('corp.example', 30, 'Corp root');
const intermediate = root.issueSubordinate({ commonName: 'Corp mesh issuing CA', ttlMs: 20 * 86_400_000, pathLength: 0 });

describe('bring your own CA (--ca-cert, --ca-key, --ca-chain, --root-cert)', function () {
  this.timeout(30_000);
  let dir: string;
  const f = (name: string): string => path.join(dir, name);

  async function write(files: Record<string, string>): Promise<void> {
    for (const [name, content] of Object.entries(files)) await fs.writeFile(f(name), content, { mode: 0o600 });
  }

  async function refusal(files: OperatorCaFiles): Promise<string> {
    try {
      await loadOperatorCa(files);
    } catch (err) {
      expect(err).to.be.instanceOf(ControlPlaneError);
      expect((err as ControlPlaneError).code).to.equal('WEFT_ERR_BAD_CA');
      return (err as Error).message;
    }
    throw new Error('expected the CA to be refused');
  }

  beforeEach(async () => {
    dir = await makeTempDir();
    const stranger = CertificateAuthority.createRoot('other.example').exportMaterial();
    const leafKeys = generateKeyPair();
    const leaf = CertificateAuthority.fromPem(intermediate).issue({ publicKeyPem: leafKeys.publicKeyPem, ttlMs: 3_600_000, usage: 'server', uris: ['spiffe://x/ns/a/sa/b'] });
    await write({
      'int.pem': intermediate.certificatePem,
      'int-key.pem': intermediate.privateKeyPem,
      'root.pem': root.rootPem,
      'root-key.pem': root.exportMaterial().privateKeyPem,
      'chain-with-root.pem': root.rootPem,
      'stranger.pem': stranger.certificatePem,
      'stranger-key.pem': stranger.privateKeyPem,
      'leaf.pem': leaf.certificatePem,
      'leaf-key.pem': leafKeys.privateKeyPem,
      'p384-key.pem': (await import('node:crypto')).generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      'garbage.pem': 'hello',
    });
  });
  afterEach(() => removeDir(dir));

  it('accepts root -> intermediate in every spelling: --root-cert, root at the end of --ca-chain, or a root alone', async () => {
    const viaRoot = await loadOperatorCa({ certFile: f('int.pem'), keyFile: f('int-key.pem'), rootFile: f('root.pem') });
    expect(viaRoot.rootPem).to.equal(splitPemChain(root.rootPem)[0]);
    expect(viaRoot.intermediatesPem).to.deep.equal([]);
    const viaChain = await loadOperatorCa({ certFile: f('int.pem'), keyFile: f('int-key.pem'), chainFile: f('chain-with-root.pem') });
    expect(viaChain.rootPem).to.equal(viaRoot.rootPem);
    const rootAlone = await loadOperatorCa({ certFile: f('root.pem'), keyFile: f('root-key.pem') });
    expect(rootAlone.rootPem).to.equal(undefined);
    const ca = CertificateAuthority.fromPem(viaRoot);
    const keys = generateKeyPair();
    const leaf = ca.issue({ publicKeyPem: keys.publicKeyPem, ttlMs: 60_000, usage: 'workload', uris: ['spiffe://corp.example/ns/a/sa/b'] });
    expect(verifyChain(leaf.chainPem, [root.rootPem])).to.deep.equal({ ok: true });
  });

  it('accepts an RSA operator CA too (root and intermediate on RSA-2048 keys), and signs P-256 leaves with it', async () => {
    const rsaRoot = CertificateAuthority.createRoot('corp.example', 30, 'Corp RSA root', 'rsa-2048');
    const rsaIntermediate = rsaRoot.issueSubordinate({ commonName: 'Corp RSA issuing CA', ttlMs: 20 * 86_400_000, pathLength: 0, keyType: 'rsa-2048' });
    await write({ 'rsa-int.pem': rsaIntermediate.certificatePem, 'rsa-int-key.pem': rsaIntermediate.privateKeyPem, 'rsa-root.pem': rsaRoot.rootPem });
    const ca = CertificateAuthority.fromPem(await loadOperatorCa({ certFile: f('rsa-int.pem'), keyFile: f('rsa-int-key.pem'), rootFile: f('rsa-root.pem') }));
    expect(ca.keyDescription).to.equal('RSA 2048');
    const leaf = ca.issue({ publicKeyPem: generateKeyPair().publicKeyPem, ttlMs: 60_000, usage: 'workload', uris: ['spiffe://corp.example/ns/a/sa/b'] });
    expect(verifyChain(leaf.chainPem, [rsaRoot.rootPem])).to.deep.equal({ ok: true });
  });

  // Each refusal names the flag and the file, and says what to bring instead.
  const cases: [string, () => OperatorCaFiles, RegExp][] = [
    ['a missing file', () => ({ certFile: f('nope.pem'), keyFile: f('int-key.pem') }), /--ca-cert .*nope\.pem cannot be read: no such file/],
    ['a file with no certificate', () => ({ certFile: f('garbage.pem'), keyFile: f('int-key.pem') }), /--ca-cert .*garbage\.pem holds no PEM certificate/],
    ['a key that is not a key', () => ({ certFile: f('int.pem'), keyFile: f('garbage.pem') }), /--ca-key .*garbage\.pem is not a PEM private key/],
    ['a key of another certificate', () => ({ certFile: f('int.pem'), keyFile: f('root-key.pem'), rootFile: f('root.pem') }), /--ca-key .*root-key\.pem is not the key of the certificate in --ca-cert .*int\.pem/],
    ['a key on a curve other than P-256', () => ({ certFile: f('int.pem'), keyFile: f('p384-key.pem') }), /--ca-key .*p384-key\.pem cannot sign: the key is ECDSA secp384r1; Weft accepts ECDSA P-256 keys .*RSA keys of 2048 bits or more.*intermediate/],
    ['a certificate that is not a CA', () => ({ certFile: f('leaf.pem'), keyFile: f('leaf-key.pem'), rootFile: f('root.pem') }), /--ca-cert .*leaf\.pem .*not a CA certificate/],
    ['an intermediate without its root', () => ({ certFile: f('int.pem'), keyFile: f('int-key.pem') }), /cannot tell which root workloads should trust: .*int\.pem .*--root-cert FILE/],
    ['a root that did not sign the chain', () => ({ certFile: f('int.pem'), keyFile: f('int-key.pem'), rootFile: f('stranger.pem') }), /--root-cert .*stranger\.pem: .* did not sign .*Corp mesh issuing CA.*--ca-chain/],
    ['a chain that does not link', () => ({ certFile: f('int.pem'), keyFile: f('int-key.pem'), chainFile: f('stranger.pem'), rootFile: f('root.pem') }), /--ca-chain .*stranger\.pem: .* did not sign .*Corp mesh issuing CA/],
  ];
  for (const [what, files, message] of cases) {
    it(`refuses ${what}, naming the file`, async () => {
      expect(await refusal(files())).to.match(message);
    });
  }

  it('parses the flags: --ca-cert needs --ca-key, and the others need --ca-cert', () => {
    const parsed = parseFlags(['--data-dir', 'd', '--ca-cert', 'c.pem', '--ca-key', 'k.pem', '--ca-chain', 'ch.pem', '--root-cert', 'r.pem']);
    expect('options' in parsed && parsed.options.ca).to.deep.equal({ certFile: 'c.pem', keyFile: 'k.pem', chainFile: 'ch.pem', rootFile: 'r.pem' });
    expect(() => parseFlags(['--data-dir', 'd', '--ca-cert', 'c.pem'])).to.throw(/--ca-cert needs --ca-key FILE/);
    expect(() => parseFlags(['--data-dir', 'd', '--root-cert', 'r.pem'])).to.throw(/--root-cert needs --ca-cert FILE/);
  });
});

describe('a control plane started with an operator intermediate', function () {
  this.timeout(30_000);
  let dir: string | undefined;
  let cp: RunningControlPlane | undefined;
  const clients: grpc.Client[] = [];

  after(async () => {
    for (const c of clients) c.close();
    await cp?.close();
    await removeDir(dir);
  });

  it('serves leaf, intermediate and root; issues leaf + intermediate; workloads trust only the operator root', async () => {
    dir = await makeTempDir();
    const files = await writeCa(dir, intermediate);
    cp = await startControlPlane({ dataDir: dir, listen: '127.0.0.1:0', http: '127.0.0.1:0', logger: quietLogger, ca: files });
    const rootFp = certificateFingerprint(root.rootPem);
    expect(cp.rootFingerprint).to.equal(rootFp);
    const served = await servedChain(cp.grpcPort);
    expect(served.map(certificateFingerprint)).to.deep.equal([certificateFingerprint(served[0] as string), certificateFingerprint(intermediate.certificatePem), rootFp]);
    const config = readOperatorConfig(cp.operatorConfigPath);
    expect(splitPemChain(config.caPem).map(certificateFingerprint)).to.deep.equal([rootFp]);
    const admin = makeClient(cp, config, 'Admin', operatorCredential(config));
    clients.push(admin);
    const { response } = await joinAs(cp, config, admin, 'reviews');
    expect(response.certificateChainPem).to.have.length(2);
    expect(certificateFingerprint(response.certificateChainPem[1] as string)).to.equal(certificateFingerprint(intermediate.certificatePem));
    expect(response.trustBundlePem.map(certificateFingerprint)).to.deep.equal([rootFp]);
    expect(verifyChain(response.certificateChainPem, [root.rootPem])).to.deep.equal({ ok: true });
    const status = await unaryCall<CaStatus>(admin, 'GetCaStatus', {});
    expect(status.signer?.role).to.equal('intermediate');
    expect(status.signer?.subject).to.include('Corp mesh issuing CA');
    expect(status.roots.map((r) => r.fingerprint)).to.deep.equal([rootFp]);

    // Later starts keep the stored CA, even when the flags name another one.
    await cp.close();
    const other = CertificateAuthority.createRoot('corp.example').exportMaterial();
    cp = await startControlPlane({ dataDir: dir, listen: '127.0.0.1:0', http: '127.0.0.1:0', logger: quietLogger, ca: await writeCa(dir, other, 'other-') });
    expect(cp.rootFingerprint).to.equal(rootFp);
  });
});

async function writeCa(dir: string, material: CaMaterial, prefix = ''): Promise<OperatorCaFiles> {
  const certFile = path.join(dir, `${prefix}operator-ca.pem`);
  const keyFile = path.join(dir, `${prefix}operator-ca-key.pem`);
  await fs.writeFile(certFile, material.certificatePem);
  await fs.writeFile(keyFile, material.privateKeyPem, { mode: 0o600 });
  if (!material.rootPem) return { certFile, keyFile };
  const rootFile = path.join(dir, `${prefix}operator-root.pem`);
  await fs.writeFile(rootFile, material.rootPem);
  return { certFile, keyFile, rootFile };
}
