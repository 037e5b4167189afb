import { expect } from 'chai';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import * as tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import {
  CertificateAuthority,
  certificateFingerprint,
  certificateInfo,
  createCsr,
  generateKeyPair,
  parseCsr,
  PkiError,
  verifyChain,
} from '../src';

const ORDERS = 'spiffe://weft.local/ns/default/sa/orders';

describe('CertificateAuthority', function () {
  this.timeout(20_000);
  const ca = CertificateAuthority.createRoot('weft.local');
  const key = generateKeyPair();

  function issueFor(spiffe: string, ttlMs = 3_600_000) {
    const csr = parseCsr(createCsr(spiffe, key.privateKeyPem));
    return ca.issue({ publicKeyPem: csr.publicKeyPem, uris: csr.uris, ttlMs, usage: 'workload' });
  }

  it('creates a self-signed CA root that node:crypto accepts', () => {
    const root = new X509Certificate(ca.rootPem);
    expect(root.ca).to.equal(true);
    expect(root.verify(root.publicKey)).to.equal(true);
    expect(certificateInfo(ca.rootPem).uris).to.deep.equal(['spiffe://weft.local']);
  });

  it('issues a leaf that chains to the root, carries the SPIFFE URI SAN and the requested TTL', () => {
    const before = Date.now();
    const issued = issueFor(ORDERS, 2 * 3_600_000);
    const leaf = new X509Certificate(issued.certificatePem);
    expect(leaf.verify(new X509Certificate(ca.rootPem).publicKey)).to.equal(true);
    expect(leaf.checkPrivateKey(createPrivateKey(key.privateKeyPem))).to.equal(true);
    expect(leaf.ca).to.equal(false);
    const info = certificateInfo(issued.certificatePem);
    expect(info.uris).to.deep.equal([ORDERS]);
    const ttl = info.notAfter.getTime() - before;
    // X.509 times have one-second resolution.
    expect(ttl).to.be.within(2 * 3_600_000 - 2000, 2 * 3_600_000 + 2000);
    expect(verifyChain(issued.chainPem, [ca.rootPem])).to.deep.equal({ ok: true });
  });

  it('a chain from another CA does not verify against this root', () => {
    const other = CertificateAuthority.createRoot('weft.local');
    const csr = parseCsr(createCsr(ORDERS, key.privateKeyPem));
    const foreign = other.issue({ publicKeyPem: csr.publicKeyPem, uris: csr.uris, ttlMs: 60_000, usage: 'workload' });
    const result = verifyChain(foreign.chainPem, [ca.rootPem]);
    expect(result.ok).to.equal(false);
    // ...but does once its root is in the bundle (a root rotation's overlap).
    expect(verifyChain(foreign.chainPem, [ca.rootPem, other.rootPem]).ok).to.equal(true);
  });

  it('an expired leaf does not verify', () => {
    const issued = issueFor(ORDERS, 1000);
    const later = new Date(Date.now() + 120_000);
    expect(verifyChain(issued.chainPem, [ca.rootPem], later)).to.deep.include({ ok: false });
  });

  it('refuses a malformed CSR and a CSR whose signature was tampered with', () => {
    expect(() => parseCsr('not a csr')).to.throw(PkiError, /not a valid PEM/);
    const csr = createCsr(ORDERS, key.privateKeyPem);
    const body = csr.split('\n').filter((l) => l && !l.startsWith('-----')).join('');
    const der = Buffer.from(body, 'base64');
    der[der.length - 5] = (der[der.length - 5] as number) ^ 0xff;
    const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
    expect(() => parseCsr(tampered)).to.throw(PkiError);
  });

  it('fingerprints are the SHA-256 of the DER, stable across PEM formatting', () => {
    const fp = certificateFingerprint(ca.rootPem);
    expect(fp).to.match(/^[0-9a-f]{64}$/);
    expect(certificateFingerprint(`\n${ca.rootPem}\n`)).to.equal(fp);
  });

  it('survives export and reload with the same root', () => {
    const again = CertificateAuthority.fromPem(ca.exportMaterial());
    expect(certificateFingerprint(again.rootPem)).to.equal(certificateFingerprint(ca.rootPem));
    const csr = parseCsr(createCsr(ORDERS, key.privateKeyPem));
    const issued = again.issue({ publicKeyPem: csr.publicKeyPem, uris: csr.uris, ttlMs: 60_000, usage: 'workload' });
    expect(verifyChain(issued.chainPem, [ca.rootPem]).ok).to.equal(true);
  });

  it('refuses a CA key that does not match its certificate', () => {
    const material = { ...ca.exportMaterial(), privateKeyPem: generateKeyPair().privateKeyPem };
    expect(() => CertificateAuthority.fromPem(material)).to.throw(PkiError, /does not match/);
  });

  it('issued certificates complete a real mutual TLS 1.3 handshake, and a stranger is refused', async () => {
    const server = issueFor('spiffe://weft.local/ns/default/sa/inventory');
    const client = issueFor(ORDERS);
    let served = 0;
    const srv = tls.createServer(
      { key: key.privateKeyPem, cert: server.certificatePem, ca: [ca.rootPem], requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.3' },
      (socket) => {
        served += 1;
        socket.end(String(socket.getPeerCertificate().subjectaltname));
      },
    );
    await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
    const port = (srv.address() as AddressInfo).port;
    try {
      const reply = await new Promise<string>((resolve, reject) => {
        const socket = tls.connect({ port, host: '127.0.0.1', key: key.privateKeyPem, cert: client.certificatePem, ca: [ca.rootPem], checkServerIdentity: () => undefined });
        let data = '';
        socket.on('data', (d: Buffer) => (data += d.toString()));
        socket.on('end', () => resolve(data));
        socket.on('error', reject);
      });
      expect(reply).to.equal(`URI:${ORDERS}`);

      const stranger = CertificateAuthority.createRoot('weft.local');
      const csr = parseCsr(createCsr(ORDERS, key.privateKeyPem));
      const fake = stranger.issue({ publicKeyPem: csr.publicKeyPem, uris: csr.uris, ttlMs: 60_000, usage: 'workload' });
      const refused = await new Promise<string>((resolve) => {
        const socket = tls.connect({ port, host: '127.0.0.1', key: key.privateKeyPem, cert: fake.certificatePem, ca: [ca.rootPem], checkServerIdentity: () => undefined });
        let data = '';
        socket.on('data', (d: Buffer) => (data += d.toString()));
        socket.on('end', () => resolve(`ended:${data}`));
        socket.on('error', (err) => resolve(`error:${err.message}`));
      });
      // TLS 1.3 clients learn of the refusal after their side of the handshake: as an error or as
      // a closed connection. Either way the server never served the stranger.
      expect(refused).to.not.include('URI:');
      expect(served).to.equal(1);
    } finally {
      srv.close();
    }
  });
});
