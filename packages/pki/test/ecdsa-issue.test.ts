import { expect } from 'chai';
import { createPrivateKey, createPublicKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import forge from 'node-forge';
import { CertificateAuthority, certificateInfo, createCsr, generateKeyPair, parseCsr, PkiError, signingProblem, verifyChain } from '../src';
import { oid } from '../src/der';
import { unvalidatedCsr } from '../src/testing';

const ORDERS = 'spiffe://weft.local/ns/default/sa/orders';
const ECDSA_SHA256 = '1.2.840.10045.4.3.2';
const hexOf = (pem: string): string => new X509Certificate(pem).raw.toString('hex');
const pemOf = (label: string, der: Buffer): string => `-----BEGIN ${label}-----\n${der.toString('base64').replace(/.{1,64}/g, '$&\n')}-----END ${label}-----\n`;

describe('ECDSA P-256 issuing (certificate-build.ts, csr-parse.ts)', function () {
  this.timeout(30_000);
  const ca = CertificateAuthority.createRoot('weft.local');
  const key = generateKeyPair();
  const issue = (authority: CertificateAuthority, publicKeyPem = key.publicKeyPem) =>
    authority.issue({ publicKeyPem, uris: [ORDERS], ttlMs: 3_600_000, usage: 'workload' });

  it('makes new roots on ECDSA P-256 keys, signed ecdsa-with-SHA256, that sign themselves', () => {
    const root = new X509Certificate(ca.rootPem);
    expect(root.publicKey.asymmetricKeyDetails?.namedCurve).to.equal('prime256v1');
    expect(root.ca).to.equal(true);
    expect(root.checkIssued(root) && root.verify(root.publicKey)).to.equal(true);
    expect(hexOf(ca.rootPem)).to.include(oid(ECDSA_SHA256).toString('hex'));
    expect(ca.keyDescription).to.equal('ECDSA P-256');
    expect(signingProblem(ca.rootPem)).to.equal(undefined);
  });

  it('issues P-256 leaves that node:crypto verifies against the root, through an intermediate too', () => {
    const leaf = issue(ca);
    const cert = new X509Certificate(leaf.certificatePem);
    const root = new X509Certificate(ca.rootPem);
    expect(cert.checkIssued(root)).to.equal(true);
    expect(cert.verify(root.publicKey)).to.equal(true);
    expect(cert.checkPrivateKey(createPrivateKey(key.privateKeyPem))).to.equal(true);
    expect(cert.serialNumber.toLowerCase().replace(/^0+/, '')).to.equal(leaf.serialNumber.replace(/^0+/, ''));
    expect(cert.keyUsage).to.have.members(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
    expect(new Date(cert.validTo).getTime()).to.equal(leaf.notAfter.getTime());
    const intermediate = CertificateAuthority.fromPem(ca.issueSubordinate({ commonName: 'issuer', ttlMs: 86_400_000, pathLength: 0 }));
    const below = issue(intermediate);
    expect(below.chainPem).to.have.length(2);
    expect(verifyChain(below.chainPem, [ca.rootPem])).to.deep.equal({ ok: true });
  });

  it('keeps signing with an RSA CA (a mesh an earlier Weft made), for P-256 and RSA leaves alike; forge reads what it writes', () => {
    const rsaCa = CertificateAuthority.fromPem(CertificateAuthority.createRoot('weft.local', 30, 'old RSA root', 'rsa-2048').exportMaterial());
    expect(rsaCa.keyDescription).to.equal('RSA 2048');
    expect(verifyChain(issue(rsaCa).chainPem, [rsaCa.rootPem])).to.deep.equal({ ok: true });
    // An independent DER reader: node-forge parses the RSA certificates and checks their signatures.
    const rsaLeaf = issue(rsaCa, generateKeyPair('rsa-2048').publicKeyPem);
    const forgeRoot = forge.pki.certificateFromPem(rsaCa.rootPem);
    const forgeLeaf = forge.pki.certificateFromPem(rsaLeaf.certificatePem);
    expect(forgeRoot.verify(forgeRoot)).to.equal(true);
    expect(forgeRoot.verify(forgeLeaf)).to.equal(true);
    expect((forgeLeaf.getExtension('subjectAltName') as { altNames: { value: string }[] }).altNames.map((a) => a.value)).to.deep.equal([ORDERS]);
    expect((forgeLeaf.getExtension('keyUsage') as { digitalSignature: boolean; keyEncipherment: boolean }).keyEncipherment).to.equal(true);
  });

  it('writes GeneralizedTime for dates from 2050 (RFC 5280 4.1.2.5)', () => {
    const longRoot = CertificateAuthority.createRoot('weft.local', 40 * 365);
    expect(new Date(new X509Certificate(longRoot.rootPem).validTo).getUTCFullYear()).to.be.at.least(2050);
    expect(certificateInfo(issue(longRoot).certificatePem).uris).to.deep.equal([ORDERS]);
  });

  it('refuses CSRs for keys Weft does not sign, with WEFT_ERR_UNSUPPORTED_KEY and what to do', () => {
    const p384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).privateKey;
    expect(() => parseCsr(unvalidatedCsr(ORDERS, p384)))
      .to.throw(PkiError, /ECDSA secp384r1; Weft accepts ECDSA P-256 keys .*Upgrade the sidecar/)
      .with.property('code', 'WEFT_ERR_UNSUPPORTED_KEY');
    const rsa1024 = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey;
    expect(() => parseCsr(unvalidatedCsr(ORDERS, rsa1024)))
      .to.throw(PkiError, /RSA 1024; .* RSA keys of 2048 bits or more/)
      .with.property('code', 'WEFT_ERR_UNSUPPORTED_KEY');
    expect(() => ca.issue({ publicKeyPem: createPublicKey(p384).export({ type: 'spki', format: 'pem' }).toString(), uris: [ORDERS], ttlMs: 60_000, usage: 'workload' }))
      .to.throw(PkiError, /secp384r1/);
  });

  it('refuses a P-256 CSR signed with another digest, or whose body was changed after signing', () => {
    const p256 = createPrivateKey(key.privateKeyPem);
    expect(() => parseCsr(unvalidatedCsr(ORDERS, p256, { algorithmOid: '1.2.840.10045.4.1', digest: 'sha1' }))).to.throw(PkiError, /sign it with SHA-256/);
    expect(parseCsr(unvalidatedCsr(ORDERS, p256)).uris).to.deep.equal([ORDERS]);
    const der = Buffer.from(createCsr(ORDERS, key.privateKeyPem).replace(/-----[A-Z ]+-----|\s/g, ''), 'base64');
    const at = der.indexOf(Buffer.from('orders'));
    der[at] = 'x'.charCodeAt(0); // ...sa/xrders under the signature made for ...sa/orders
    expect(() => parseCsr(pemOf('CERTIFICATE REQUEST', der))).to.throw(PkiError, /signature does not verify/).with.property('code', 'WEFT_ERR_BAD_CSR');
    expect(() => parseCsr(pemOf('CERTIFICATE REQUEST', der.subarray(0, 40)))).to.throw(PkiError, /not a valid PEM PKCS#10/);
    // A P-256 key whose point is not on the curve (its X changed): refused as unreadable, before any signature check.
    const offCurve = Buffer.from(createCsr(ORDERS, key.privateKeyPem).replace(/-----[A-Z ]+-----|\s/g, ''), 'base64');
    const point = offCurve.indexOf(Buffer.from('06082a8648ce3d030107034200', 'hex')) + 13 + 1;
    offCurve[point + 5] = (offCurve[point + 5] as number) ^ 0x01;
    expect(() => parseCsr(pemOf('CERTIFICATE REQUEST', offCurve))).to.throw(PkiError, /not a point on the curve/).with.property('code', 'WEFT_ERR_BAD_CSR');
  });
});
