import { expect } from 'chai';
import { CertificateAuthority, createCsr, generateKeyPair, parseCsr } from '@weft/pki';
import type { IdentityMaterial } from '../../src/control/identity-material';
import { bundleAfterRenewal, rerootDelay } from '../../src/control/renewal-policy';

const ORDERS = 'spiffe://weft.local/ns/default/sa/orders';

describe('renewal policy', function () {
  this.timeout(20_000);
  const oldRoot = CertificateAuthority.createRoot('weft.local');
  const newRoot = CertificateAuthority.createRoot('weft.local');
  const key = generateKeyPair();

  function material(ca: CertificateAuthority, bundle: CertificateAuthority[]): IdentityMaterial {
    const csr = parseCsr(createCsr(ORDERS, key.privateKeyPem));
    const issued = ca.issue({ publicKeyPem: csr.publicKeyPem, uris: csr.uris, ttlMs: 60_000, usage: 'workload' });
    return { spiffeId: ORDERS, certificateChainPem: issued.chainPem, privateKeyPem: key.privateKeyPem, trustBundlePem: bundle.map((c) => c.rootPem), expiresAtMs: issued.notAfter.getTime(), issuedAtMs: Date.now() };
  }

  it('keeps the bundle in force when the renewed certificate verifies against it (a renewal straddling a phase change)', () => {
    // Overlap ACKed, then a renewal answered from before: it must not take the new root back.
    expect(bundleAfterRenewal(material(oldRoot, [oldRoot]), material(oldRoot, [oldRoot, newRoot])).length).to.equal(2);
    // Retire ACKed, then a renewal answered from reissue: it must not bring the old root back.
    expect(bundleAfterRenewal(material(newRoot, [oldRoot, newRoot]), material(newRoot, [newRoot]))).to.deep.equal([newRoot.rootPem]);
  });

  it('adds the roots a renewal came with only when its certificate needs them', () => {
    const merged = bundleAfterRenewal(material(newRoot, [oldRoot, newRoot]), material(oldRoot, [oldRoot]));
    expect(merged).to.deep.equal([oldRoot.rootPem, newRoot.rootPem]);
    expect(bundleAfterRenewal(material(oldRoot, [oldRoot]), undefined)).to.deep.equal([oldRoot.rootPem]);
  });

  it('spreads early renewals over a few seconds, at most a tenth of the remaining life', () => {
    const now = 1_000_000;
    expect(rerootDelay({ expiresAtMs: now + 86_400_000 }, now, () => 0.999)).to.be.within(2_900, 3_000);
    expect(rerootDelay({ expiresAtMs: now + 10_000 }, now, () => 0.999)).to.be.within(900, 1_000);
    expect(rerootDelay({ expiresAtMs: now - 1 }, now, () => 0.5)).to.equal(0);
  });
});
