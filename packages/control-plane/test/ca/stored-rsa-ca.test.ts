import { X509Certificate } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import type { CaStatus, SignResponse } from '@weft/api';
import { certificateFingerprint, verifyChain } from '@weft/pki';
import { startControlPlane, type RunningControlPlane } from '../../src/index';
import { quietLogger, readOperatorConfig } from '@weft/harness';
import { makeTempDir, removeDir } from '../helpers/fixtures';
import { joinAs, makeClient, operatorCredential, unaryCall } from '../helpers/grpc-clients';

/**
 * `test/fixtures/rsa-mesh/`: the CA files an earlier Weft wrote at first start (a node-forge
 * RSA-2048 root, `ca.pem` and `ca-key.pem`), made by that code and kept as they were written.
 * What the product wrote, it reads: such a mesh keeps its root, signs the sidecars' P-256 keys
 * with its RSA key across restarts, and moves to an ECDSA P-256 root by an ordinary rotation.
 */
const FIXTURE = path.resolve(__dirname, '../../../test/fixtures/rsa-mesh');

describe('a mesh whose stored CA is RSA (written before ECDSA issuing)', function () {
  this.timeout(30_000);
  let dir: string | undefined;
  let cp: RunningControlPlane | undefined;
  const clients: grpc.Client[] = [];

  after(async () => {
    for (const c of clients) c.close();
    await cp?.close();
    await removeDir(dir);
  });

  const start = (dataDir: string): Promise<RunningControlPlane> =>
    startControlPlane({ dataDir, listen: '127.0.0.1:0', http: '127.0.0.1:0', pushDebounceMs: 20, logger: quietLogger });

  async function join(running: RunningControlPlane): Promise<{ admin: grpc.Client; response: SignResponse }> {
    const config = readOperatorConfig(running.operatorConfigPath);
    const admin = makeClient(running, config, 'Admin', operatorCredential(config));
    clients.push(admin);
    return { admin, response: (await joinAs(running, config, admin, 'reviews')).response };
  }

  it('keeps its RSA root over restarts, signs P-256 leaves with it, and a rotation brings a P-256 root', async () => {
    dir = await makeTempDir();
    const rsaRoot = await fs.readFile(path.join(FIXTURE, 'ca.pem'), 'utf8');
    await fs.writeFile(path.join(dir, 'ca.pem'), rsaRoot, { mode: 0o600 });
    await fs.copyFile(path.join(FIXTURE, 'ca-key.pem'), path.join(dir, 'ca-key.pem'));
    await fs.chmod(path.join(dir, 'ca-key.pem'), 0o600);
    await fs.writeFile(path.join(dir, 'mesh.json'), JSON.stringify({ trustDomain: 'weft.local', createdAtMs: Date.now() - 86_400_000 }), { mode: 0o600 });
    expect(new X509Certificate(rsaRoot).publicKey.asymmetricKeyType).to.equal('rsa');

    for (let run = 0; run < 2; run++) {
      // A second start reads what the first one wrote next to the stored CA (serving certificate, weftctl.json).
      if (cp) await cp.close();
      cp = await start(dir);
      expect(cp.rootFingerprint, `run ${run}`).to.equal(certificateFingerprint(rsaRoot));
      const { response } = await join(cp);
      const leaf = new X509Certificate(response.certificateChainPem[0] as string);
      expect(leaf.publicKey.asymmetricKeyDetails?.namedCurve).to.equal('prime256v1');
      expect(leaf.checkIssued(new X509Certificate(rsaRoot)) && leaf.verify(new X509Certificate(rsaRoot).publicKey)).to.equal(true);
      expect(verifyChain(response.certificateChainPem, response.trustBundlePem)).to.deep.equal({ ok: true });
    }

    const { admin } = await join(cp as RunningControlPlane);
    const started = await unaryCall<CaStatus>(admin, 'RotateRoot', { rootValiditySeconds: 0 });
    expect(started.phase).to.equal('overlap');
    const config = readOperatorConfig((cp as RunningControlPlane).operatorConfigPath);
    const newRoot = config.caPem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)?.find((pem) => certificateFingerprint(pem) === started.roots[1]?.fingerprint);
    expect(newRoot, 'the new root is in weftctl.json').to.be.a('string');
    expect(new X509Certificate(newRoot as string).publicKey.asymmetricKeyDetails?.namedCurve).to.equal('prime256v1');
  });
});
