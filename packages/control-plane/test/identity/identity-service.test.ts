import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import type { ApplyResponse, SignResponse } from '@weft/api';
import { certificateInfo, createCsr, generateKeyPair, verifyChain } from '@weft/pki';
import { quietLogger, readOperatorConfig } from '@weft/harness';
import { unvalidatedCsr } from '@weft/pki/testing';
import { startControlPlane, type OperatorConfig, type RunningControlPlane } from '../../src/index';
import { makeTempDir, meshConfig, removeDir, sleep } from '../helpers/fixtures';
import { callError, createToken, joinAs, makeClient, operatorCredential, unaryCall } from '../helpers/grpc-clients';

const REVIEWS = 'spiffe://weft.local/ns/default/sa/reviews';

describe('Identity.Sign over TLS', () => {
  let dir: string | undefined;
  let cp: RunningControlPlane | undefined;
  let config: OperatorConfig;
  const clients: grpc.Client[] = [];
  const client = (c: grpc.Client): grpc.Client => (clients.push(c), c);
  let admin: grpc.Client;
  let identity: grpc.Client;

  before(async () => {
    dir = await makeTempDir();
    cp = await startControlPlane({ dataDir: dir, listen: '127.0.0.1:0', http: '127.0.0.1:0', logger: quietLogger });
    config = readOperatorConfig(cp.operatorConfigPath);
    admin = client(makeClient(cp, config, 'Admin', operatorCredential(config)));
    identity = client(makeClient(cp, config, 'Identity'));
    const applied = await unaryCall<ApplyResponse>(admin, 'Apply', {
      documents: [{ source: 'mesh.yaml', index: 1, json: JSON.stringify(meshConfig({ certificateTTL: '2h' })) }],
      dryRun: false,
    });
    expect(applied.revision).to.equal(1);
  });

  after(async () => {
    for (const c of clients) c.close();
    await cp?.close();
    await removeDir(dir);
  });

  function csrFor(spiffeId: string): { csrPem: string; privateKeyPem: string } {
    const keys = generateKeyPair();
    return { csrPem: createCsr(spiffeId, keys.privateKeyPem), privateKeyPem: keys.privateKeyPem };
  }

  it('signs a CSR with a valid token: the chain verifies, carries the SPIFFE ID and the MeshConfig TTL', async () => {
    const { token, spiffeId } = await createToken(admin, 'reviews');
    expect(spiffeId).to.equal(REVIEWS);
    const res = await unaryCall<SignResponse>(identity, 'Sign', { csrPem: csrFor(REVIEWS).csrPem, token });
    expect(res.spiffeId).to.equal(REVIEWS);
    expect(verifyChain(res.certificateChainPem, res.trustBundlePem)).to.deep.equal({ ok: true });
    const info = certificateInfo(res.certificateChainPem[0] as string);
    expect(info.uris).to.deep.equal([REVIEWS]);
    expect(info.dnsNames).to.deep.equal([]);
    const ttl = info.notAfter.getTime() - Date.now();
    expect(ttl).to.be.within(2 * 3_600_000 - 60_000, 2 * 3_600_000 + 1000);
    expect(res.expiresAtMs).to.be.closeTo(info.notAfter.getTime(), 1000);
    expect(res.trustBundlePem[0]).to.equal(config.caPem);
  });

  it('issues ECDSA P-256 leaves signed by the P-256 mesh root, and refuses other key types with WEFT_ERR_UNSUPPORTED_KEY', async () => {
    const { token } = await createToken(admin, 'reviews');
    const keys = csrFor(REVIEWS);
    const res = await unaryCall<SignResponse>(identity, 'Sign', { csrPem: keys.csrPem, token });
    const leaf = new X509Certificate(res.certificateChainPem[0] as string);
    const root = new X509Certificate(res.trustBundlePem[0] as string);
    expect(leaf.publicKey.asymmetricKeyDetails?.namedCurve).to.equal('prime256v1');
    expect(root.publicKey.asymmetricKeyDetails?.namedCurve).to.equal('prime256v1');
    expect(leaf.checkIssued(root) && leaf.verify(root.publicKey)).to.equal(true);
    for (const [key, named] of [
      [generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).privateKey, /ECDSA secp384r1/],
      [generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey, /RSA 1024/],
    ] as const) {
      const err = await callError(unaryCall(identity, 'Sign', { csrPem: unvalidatedCsr(REVIEWS, key), token }));
      expect(err.code).to.equal(grpc.status.INVALID_ARGUMENT);
      expect(err.metadata.get('weft-error-code')).to.deep.equal(['WEFT_ERR_UNSUPPORTED_KEY']);
      expect(err.details).to.match(named).and.match(/Weft accepts ECDSA P-256 keys .*Upgrade the sidecar/);
    }
  });

  it('refuses a CSR for another identity than the token is bound to', async () => {
    const { token } = await createToken(admin, 'reviews');
    const err = await callError(unaryCall(identity, 'Sign', { csrPem: csrFor('spiffe://weft.local/ns/default/sa/payments').csrPem, token }));
    expect(err.code).to.equal(grpc.status.PERMISSION_DENIED);
    expect(err.details).to.contain(REVIEWS).and.contain('sa/payments');
  });

  it('refuses unknown, expired and over-used tokens, and a missing one', async () => {
    const csrPem = csrFor(REVIEWS).csrPem;
    const { token } = await createToken(admin, 'reviews');
    const unknown = token.replace(/\.[^.]+$/, `.${'x'.repeat(43)}`);
    const e1 = await callError(unaryCall(identity, 'Sign', { csrPem, token: unknown }));
    expect(e1.code).to.equal(grpc.status.UNAUTHENTICATED);

    const once = await createToken(admin, 'reviews', { maxUses: 1 });
    await unaryCall(identity, 'Sign', { csrPem, token: once.token });
    const e2 = await callError(unaryCall(identity, 'Sign', { csrPem, token: once.token }));
    expect(e2.code).to.equal(grpc.status.PERMISSION_DENIED);
    expect(e2.details).to.contain('limit');

    const e3 = await callError(unaryCall(identity, 'Sign', { csrPem, token: '' }));
    expect(e3.code).to.equal(grpc.status.UNAUTHENTICATED);
    expect(e3.details).to.contain('weftctl token create --service reviews');

    const short = await createToken(admin, 'reviews', { ttlSeconds: 1 });
    await sleep(1100);
    const e4 = await callError(unaryCall(identity, 'Sign', { csrPem, token: short.token }));
    expect(e4.code).to.equal(grpc.status.UNAUTHENTICATED);
    expect(e4.details).to.match(/join token \w+ expired at .*: create a new one with `weftctl token create --service reviews`/);
  });

  it('answers a malformed CSR with INVALID_ARGUMENT', async () => {
    const { token } = await createToken(admin, 'reviews');
    const err = await callError(unaryCall(identity, 'Sign', { csrPem: '-----BEGIN CERTIFICATE REQUEST-----\nnope\n-----END CERTIFICATE REQUEST-----\n', token }));
    expect(err.code).to.equal(grpc.status.INVALID_ARGUMENT);
    expect(err.details).to.contain('CSR');
    const other = await callError(unaryCall(identity, 'Sign', { csrPem: csrFor('spiffe://elsewhere.example/ns/default/sa/reviews').csrPem, token }));
    expect(other.code).to.equal(grpc.status.INVALID_ARGUMENT);
    expect(other.details).to.contain('trust domain');
  });

  it('renews with the current certificate, for the same identity only', async () => {
    const joined = await joinAs(cp as RunningControlPlane, config, admin, 'reviews');
    const renewing = client(makeClient(cp as RunningControlPlane, config, 'Identity', joined.credential));
    const fresh = csrFor(REVIEWS);
    const renewed = await unaryCall<SignResponse>(renewing, 'Sign', { csrPem: fresh.csrPem, token: '' });
    expect(renewed.spiffeId).to.equal(REVIEWS);
    expect(new X509Certificate(renewed.certificateChainPem[0] as string).serialNumber).to.not.equal(
      new X509Certificate(joined.response.certificateChainPem[0] as string).serialNumber,
    );
    const err = await callError(unaryCall(renewing, 'Sign', { csrPem: csrFor('spiffe://weft.local/ns/default/sa/payments').csrPem, token: '' }));
    expect(err.code).to.equal(grpc.status.PERMISSION_DENIED);
    expect(err.details).to.contain(REVIEWS);
  });

  it('does not let the operator certificate renew a workload identity', async () => {
    const asOperator = client(makeClient(cp as RunningControlPlane, config, 'Identity', operatorCredential(config)));
    const err = await callError(unaryCall(asOperator, 'Sign', { csrPem: csrFor(REVIEWS).csrPem, token: '' }));
    expect(err.code).to.equal(grpc.status.PERMISSION_DENIED);
  });

  it('never signs the reserved weft-system namespace', async () => {
    const err = await callError(createToken(admin, 'weft-operator', { namespace: 'weft-system' }));
    expect(err.code).to.equal(grpc.status.INVALID_ARGUMENT);
  });
});
