import { expect } from 'chai';
import { X509Certificate } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import * as tls from 'node:tls';
import forge from 'node-forge';
import { CertificateAuthority, chainRoot, createCsr, generateKeyPair, normalizeSerial, parseCsr, verifyChain } from '../src';

const ORDERS = 'spiffe://weft.local/ns/default/sa/orders';

/** An operator's hierarchy: root -> intermediate (signs leaves), as brought with --ca-cert/--ca-chain. */
describe('CertificateAuthority with an intermediate', function () {
  this.timeout(20_000);
  const root = CertificateAuthority.createRoot('weft.local');
  const intermediate = CertificateAuthority.fromPem(root.issueSubordinate({ commonName: 'Operator issuing CA', ttlMs: 30 * 86_400_000, pathLength: 0 }));
  const key = generateKeyPair();

  function leaf(spiffe = ORDERS, ttlMs = 3_600_000) {
    const csr = parseCsr(createCsr(spiffe, key.privateKeyPem));
    return intermediate.issue({ publicKeyPem: csr.publicKeyPem, uris: csr.uris, ttlMs, usage: 'workload' });
  }

  it('signs leaves whose chain (leaf, intermediate) verifies to the root only', () => {
    const issued = leaf();
    expect(issued.chainPem).to.have.length(2);
    expect(intermediate.rootPem).to.equal(root.rootPem);
    expect(intermediate.signerPem).to.not.equal(root.rootPem);
    expect(verifyChain(issued.chainPem, [root.rootPem])).to.deep.equal({ ok: true });
    // The intermediate is not a trust anchor: the leaf alone does not verify to the root.
    expect(verifyChain([issued.certificatePem], [root.rootPem]).ok).to.equal(false);
    expect(chainRoot(issued.chainPem, [CertificateAuthority.createRoot('weft.local').rootPem, root.rootPem])).to.equal(root.rootPem);
    expect(chainRoot(issued.chainPem, [CertificateAuthority.createRoot('weft.local').rootPem])).to.equal(undefined);
  });

  it("names the signer's own subject key identifier as the leaf's authority key", () => {
    // A CA that computes its SKI another way than forge (allowed by RFC 5280): random bytes here.
    // RSA and built by forge: what an earlier Weft, or an operator's tooling, wrote.
    const keys = generateKeyPair('rsa-2048');
    const cert = forge.pki.createCertificate();
    cert.publicKey = forge.pki.publicKeyFromPem(keys.publicKeyPem);
    cert.serialNumber = '01';
    cert.validity.notBefore = new Date(Date.now() - 60_000);
    cert.validity.notAfter = new Date(Date.now() + 86_400_000);
    cert.setSubject([{ name: 'commonName', value: 'odd SKI root' }]);
    cert.setIssuer([{ name: 'commonName', value: 'odd SKI root' }]);
    cert.setExtensions([
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, critical: true },
      // A value of our own: forge would otherwise compute its usual one.
      { name: 'subjectKeyIdentifier', value: forge.asn1.create(forge.asn1.Class.UNIVERSAL, forge.asn1.Type.OCTETSTRING, false, forge.util.hexToBytes('a1b2c3d4e5f60718293a4b5c6d7e8f9001122334')) },
    ]);
    cert.sign(forge.pki.privateKeyFromPem(keys.privateKeyPem) as forge.pki.rsa.PrivateKey, forge.md.sha256.create());
    const odd = CertificateAuthority.fromPem({ certificatePem: forge.pki.certificateToPem(cert), privateKeyPem: keys.privateKeyPem });
    const csr = parseCsr(createCsr(ORDERS, key.privateKeyPem));
    const issued = odd.issue({ publicKeyPem: csr.publicKeyPem, uris: csr.uris, ttlMs: 60_000, usage: 'workload' });
    // AuthorityKeyIdentifier (2.5.29.35) = SEQUENCE { [0] the signer's 20-byte SKI }.
    expect(new X509Certificate(issued.certificatePem).raw.toString('hex')).to.include('0603551d23041830168014a1b2c3d4e5f60718293a4b5c6d7e8f9001122334');
    expect(verifyChain(issued.chainPem, [odd.rootPem])).to.deep.equal({ ok: true });
  });

  it('never issues a leaf that outlives any certificate above it', () => {
    const shortRoot = CertificateAuthority.createRoot('weft.local', 2);
    const sub = CertificateAuthority.fromPem(shortRoot.issueSubordinate({ commonName: 'sub', ttlMs: 30 * 86_400_000 }));
    const csr = parseCsr(createCsr(ORDERS, key.privateKeyPem));
    const issued = sub.issue({ publicKeyPem: csr.publicKeyPem, uris: csr.uris, ttlMs: 10 * 86_400_000, usage: 'workload' });
    expect(issued.notAfter.getTime()).to.be.at.most(Date.parse(new X509Certificate(shortRoot.rootPem).validTo));
  });

  it('completes a real mutual TLS 1.3 handshake where each side trusts only the root', async () => {
    const server = leaf('spiffe://weft.local/ns/default/sa/inventory');
    const client = leaf();
    const srv = tls.createServer(
      { key: key.privateKeyPem, cert: server.chainPem.join(''), ca: [root.rootPem], requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.3' },
      (socket) => socket.end(String(socket.getPeerCertificate().subjectaltname)),
    );
    await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
    try {
      const port = (srv.address() as AddressInfo).port;
      const reply = await new Promise<string>((resolve, reject) => {
        const socket = tls.connect({ port, host: '127.0.0.1', key: key.privateKeyPem, cert: client.chainPem.join(''), ca: [root.rootPem], checkServerIdentity: () => undefined });
        let data = '';
        socket.on('data', (d: Buffer) => (data += d.toString()));
        socket.on('end', () => resolve(data));
        socket.on('error', reject);
      });
      expect(reply).to.equal(`URI:${ORDERS}`);
    } finally {
      srv.close();
    }
  });

  it('spells serial numbers one way whichever library printed them', () => {
    expect(normalizeSerial('00AB01')).to.equal('ab01');
    expect(normalizeSerial('ab01')).to.equal('ab01');
    expect(normalizeSerial('0')).to.equal('0');
    const issued = leaf();
    const fromNode = new X509Certificate(issued.certificatePem).serialNumber;
    expect(normalizeSerial(fromNode)).to.equal(normalizeSerial(issued.serialNumber));
  });
});
