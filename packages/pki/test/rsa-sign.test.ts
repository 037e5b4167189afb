import { expect } from 'chai';
import { X509Certificate } from 'node:crypto';
import forge from 'node-forge';
import { CertificateAuthority, createCsr, generateKeyPair, parseCsr } from '../src';

const ORDERS = 'spiffe://weft.local/ns/default/sa/orders';

/** forge functions its typings leave out. */
const forgeRsa = forge.pki.rsa as unknown as { encrypt: (...args: unknown[]) => string; decrypt: (...args: unknown[]) => string };
const forgePki = forge.pki as unknown as { getTBSCertificate(cert: forge.pki.Certificate): forge.asn1.Asn1 };

describe('CertificateAuthority signs in OpenSSL (rsa-sign.ts)', function () {
  this.timeout(20_000);
  const ca = CertificateAuthority.createRoot('weft.local');
  const key = generateKeyPair();
  const issue = () => {
    const csr = parseCsr(createCsr(ORDERS, key.privateKeyPem));
    return ca.issue({ publicKeyPem: csr.publicKeyPem, uris: csr.uris, ttlMs: 3_600_000, usage: 'workload' });
  };

  it("never runs forge's JavaScript RSA to sign a leaf (it capped issuance near 30 certificates per second)", () => {
    const original = forgeRsa.encrypt;
    forgeRsa.encrypt = () => {
      throw new Error("forge's JavaScript RSA private-key operation was used");
    };
    let pem: string;
    try {
      pem = issue().certificatePem;
    } finally {
      forgeRsa.encrypt = original;
    }
    expect(new X509Certificate(pem).verify(new X509Certificate(ca.rootPem).publicKey)).to.equal(true);
  });

  it('produces the very signature forge computes (RSASSA-PKCS1-v1_5 with SHA-256 is deterministic)', () => {
    const cert = forge.pki.certificateFromPem(issue().certificatePem);
    const md = forge.md.sha256.create();
    md.update(forge.asn1.toDer(forgePki.getTBSCertificate(cert)).getBytes());
    const caKey = forge.pki.privateKeyFromPem(ca.exportMaterial().privateKeyPem) as forge.pki.rsa.PrivateKey;
    expect(Buffer.from(cert.signature as string, 'binary').toString('hex')).to.equal(Buffer.from(caKey.sign(md), 'binary').toString('hex'));
  });

  it("checks a CSR's SHA-256 RSA self-signature in OpenSSL, and still refuses a tampered one", () => {
    const csrPem = createCsr(ORDERS, key.privateKeyPem);
    const original = forgeRsa.decrypt;
    forgeRsa.decrypt = () => {
      throw new Error("forge's JavaScript RSA public-key operation was used");
    };
    try {
      expect(parseCsr(csrPem).uris).to.deep.equal([ORDERS]);
    } finally {
      forgeRsa.decrypt = original;
    }
    // The same request with another identity under the original signature: refused.
    const other = createCsr('spiffe://weft.local/ns/default/sa/ordersX', key.privateKeyPem);
    const der = (pem: string): Buffer => Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    const tampered = der(other);
    const signature = der(csrPem).subarray(-256);
    signature.copy(tampered, tampered.length - 256);
    const pem = `-----BEGIN CERTIFICATE REQUEST-----\n${tampered.toString('base64').replace(/.{1,64}/g, '$&\n')}-----END CERTIFICATE REQUEST-----\n`;
    expect(() => parseCsr(pem)).to.throw(/does not verify/);
  });
});
