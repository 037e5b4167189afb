import { expect } from 'chai';
import { X509Certificate } from 'node:crypto';
import { CertificateAuthority, certificateFingerprint, certificateInfo, normalizeSerial } from '@weft/pki';
import { recordingLogger, waitFor } from '@weft/harness';
import { ControlPlaneAddresses } from '../../src/control/control-plane-addresses';
import { ControlError } from '../../src/control/errors';
import { IdentityClient, renewDelay } from '../../src/control/identity-client';
import type { IdentityMaterial } from '../../src/control/identity-material';
import { JoinToken } from '../../src/control/join-token';
import { FakeControlPlane } from './fake-control-plane';

const ORDERS = 'spiffe://weft.local/ns/default/sa/orders';

describe('IdentityClient', function () {
  this.timeout(30_000);
  let cp: FakeControlPlane;
  const clients: IdentityClient[] = [];

  function client(token: string, spiffeId = ORDERS, proxyId?: string): IdentityClient {
    const c = new IdentityClient({
      ...(proxyId ? { proxyId } : {}),
      addresses: new ControlPlaneAddresses([{ host: '127.0.0.1', port: cp.port }]),
      trustDomain: 'weft.local',
      spiffeId,
      token: JoinToken.parse(token),
      bootstrapRootPem: cp.ca.rootPem,
      logger: recordingLogger(),
      renewBackoff: { baseMs: 50, capMs: 200 },
    });
    clients.push(c);
    return c;
  }

  beforeEach(async () => {
    cp = await FakeControlPlane.start();
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await cp?.stop();
  });

  it('signs a CSR with the join token and publishes the material', async () => {
    const c = client(cp.tokenFor('orders'));
    const material = await c.bootstrap();
    expect(c.identity.current).to.equal(material);
    expect(material.spiffeId).to.equal(ORDERS);
    expect(certificateInfo(material.certificateChainPem[0]!).uris).to.deep.equal([ORDERS]);
    expect(material.trustBundlePem.map(certificateFingerprint)).to.deep.equal([certificateFingerprint(cp.ca.rootPem)]);
    expect(material.expiresAtMs).to.be.greaterThan(Date.now());
    expect(cp.signs).to.deep.equal([{ spiffeId: ORDERS, viaToken: true }]);
  });

  it('reports a token the control plane refuses, with the gRPC status and the server code', async () => {
    const valid = cp.tokenFor('orders');
    const forged = valid.replace(/\.[^.]+$/, '.wrongsecret');
    const err = await client(forged).bootstrap().then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(ControlError);
    expect((err as ControlError).code).to.equal('WEFT_ERR_SIGN_REFUSED');
    expect((err as ControlError).grpcStatus).to.equal('UNAUTHENTICATED');
    expect((err as ControlError).serverCode).to.equal('WEFT_ERR_TOKEN_INVALID');
    expect((err as Error).message).not.to.include('wrongsecret');
  });

  it('refuses to ask for an identity the token is not for', async () => {
    const err = await client(cp.tokenFor('payments')).bootstrap().then(() => undefined, (e: unknown) => e);
    expect((err as ControlError).code).to.equal('WEFT_ERR_SIGN_REFUSED');
    expect((err as ControlError).grpcStatus).to.equal('PERMISSION_DENIED');
  });

  it('renews at half the lifetime over mTLS, with a new key, without a token', async () => {
    // 4 s, not less: the renewal (a new key, a CSR over mTLS) must land before expiry even on a
    // loaded 2-core machine, where a 2 s certificate left too little margin.
    cp.ttlMs = 4_000;
    const c = client(cp.tokenFor('orders'));
    const first = await c.bootstrap();
    const seen: IdentityMaterial[] = [];
    c.identity.subscribe((m) => seen.push(m));
    // X.509 times have whole seconds, so a "4 s" certificate lives between 3 and 4 s.
    expect(renewDelay(first, first.issuedAtMs)).to.be.within(1_400, 2_000);
    await waitFor('two renewals', () => seen.length >= 2, 12_000);
    const [second, third] = seen as [IdentityMaterial, IdentityMaterial];
    // Started at half-life (not at once), and done before the first certificate expired; the
    // margin allows for key generation on a busy machine.
    expect(second.issuedAtMs - first.issuedAtMs).to.be.at.least(1_400);
    expect(second.issuedAtMs).to.be.lessThan(first.expiresAtMs);
    expect(cp.signs.map((s) => s.viaToken)).to.deep.equal([true, false, false]);
    for (const m of [second, third]) {
      expect(m.privateKeyPem).not.to.equal(first.privateKeyPem);
      expect(new X509Certificate(m.certificateChainPem[0]!).serialNumber).not.to.equal(new X509Certificate(first.certificateChainPem[0]!).serialNumber);
      expect(m.expiresAtMs).to.be.greaterThan(first.expiresAtMs);
    }
    expect(c.state.renewals).to.be.at.least(2);
  });

  it('retries a failed renewal with backoff while the certificate is valid, and exposes the failure', async () => {
    cp.ttlMs = 8_000; // room for two failures and a success before expiry on a loaded machine
    const c = client(cp.tokenFor('orders'));
    const first = await c.bootstrap();
    cp.failRenewals = true;
    await waitFor('two failed renewals', () => c.state.consecutiveFailures >= 2, 12_000);
    expect(c.state.lastError?.code).to.equal('WEFT_ERR_CLOSED');
    expect(c.state.lastError?.message).to.match(/UNAVAILABLE/);
    expect(c.identity.current).to.equal(first);
    cp.failRenewals = false;
    await waitFor('a successful renewal', () => c.identity.current !== first, 12_000);
    expect(Date.now()).to.be.lessThan(first.expiresAtMs);
    expect(c.state.consecutiveFailures).to.equal(0);
    expect(c.state.lastError).to.equal(undefined);
  });

  it('renews within seconds when the control plane signs under another root, and keeps the bundle snapshots set', async () => {
    const c = client(cp.tokenFor('orders'), ORDERS, 'proxy-7');
    const first = await c.bootstrap();
    const oldFp = certificateFingerprint(cp.ca.rootPem);
    expect(first.rootFingerprint).to.equal(oldFp);
    expect(first.serialNumber).to.equal(normalizeSerial(certificateInfo(first.certificateChainPem[0]!).serialNumber));
    expect(cp.signs[0]?.proxyId).to.equal('proxy-7');

    // A rotation's overlap: a snapshot brought both roots; then reissue: a new root signs.
    const next = CertificateAuthority.createRoot('weft.local');
    const bundle = [cp.ca.rootPem, next.rootPem];
    c.identity.set({ ...first, trustBundlePem: bundle });
    c.renewUnlessFrom(oldFp);
    expect(c.state.nextRenewalAtMs! - Date.now(), 'the same root: half-life as before').to.be.greaterThan(60_000);
    cp.signer = next;
    cp.bundle = [next.rootPem]; // an answer from "later": the bundle is the snapshots' to change, not this one's
    const started = Date.now();
    c.renewUnlessFrom(certificateFingerprint(next.rootPem));
    await waitFor('a new-root certificate', () => c.identity.current?.rootFingerprint === certificateFingerprint(next.rootPem), 6_000);
    expect(Date.now() - started).to.be.below(4_000);
    expect(c.identity.current?.trustBundlePem).to.deep.equal(bundle);
    expect(cp.signs.at(-1)).to.deep.include({ viaToken: false, proxyId: 'proxy-7' });
  });
});
