import { expect } from 'chai';
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createCsr, generateKeyPair, parseCsr, PkiError } from '../src';
import { oid } from '../src/der';

const ORDERS = 'spiffe://weft.local/ns/default/sa/orders';
const spki = (pem: string): string => createPublicKey(pem).export({ type: 'spki', format: 'der' }).toString('hex');

describe('createCsr (node:crypto, no node-forge)', function () {
  this.timeout(20_000);
  const key = generateKeyPair();

  it('builds a request the CA side reads and verifies: the identity as the only URI SAN, the caller\'s key', () => {
    const pem = createCsr(ORDERS, key.privateKeyPem);
    expect(pem).to.match(/^-----BEGIN CERTIFICATE REQUEST-----\n([A-Za-z0-9+/=]{1,64}\n)+-----END CERTIFICATE REQUEST-----\n$/);
    const csr = parseCsr(pem);
    expect(csr.uris).to.deep.equal([ORDERS]);
    expect(csr.dnsNames).to.deep.equal([]);
    expect(spki(csr.publicKeyPem)).to.equal(spki(key.publicKeyPem));
  });

  it('encodes long identities (DER lengths above 127 and 255 bytes)', () => {
    const long = `spiffe://weft.local/ns/${'n'.repeat(63)}/sa/${'s'.repeat(200)}`;
    expect(parseCsr(createCsr(long, key.privateKeyPem)).uris).to.deep.equal([long]);
  });

  it('is signed by the key it carries: a request re-signed by another key is refused', () => {
    // RSA-2048 signatures have a fixed length (256 bytes), so one can be spliced in place.
    const rsa = generateKeyPair('rsa-2048');
    const pem = createCsr(ORDERS, rsa.privateKeyPem);
    const other = createCsr(ORDERS, generateKeyPair('rsa-2048').privateKeyPem);
    // Splice the other request's signature onto this one's body: the signature no longer verifies.
    const der = (p: string): Buffer => Buffer.from(p.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64');
    const mine = der(pem);
    const theirs = der(other);
    const forged = Buffer.concat([mine.subarray(0, mine.length - 256), theirs.subarray(theirs.length - 256)]);
    const forgedPem = `-----BEGIN CERTIFICATE REQUEST-----\n${forged.toString('base64').replace(/.{1,64}/g, '$&\n')}-----END CERTIFICATE REQUEST-----\n`;
    expect(() => parseCsr(forgedPem)).to.throw(PkiError, /signature does not verify/);
  });

  it('signs with the P-256 key generateKeyPair makes (ecdsa-with-SHA256), or with RSA', () => {
    const der = (p: string): string => Buffer.from(p.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64').toString('hex');
    expect(der(createCsr(ORDERS, key.privateKeyPem))).to.include(oid('1.2.840.10045.4.3.2').toString('hex'));
    expect(createPrivateKey(key.privateKeyPem).asymmetricKeyDetails?.namedCurve).to.equal('prime256v1');
    const rsa = generateKeyPair('rsa-2048');
    expect(der(createCsr(ORDERS, rsa.privateKeyPem))).to.include(oid('1.2.840.113549.1.1.11').toString('hex'));
    expect(parseCsr(createCsr(ORDERS, rsa.privateKeyPem)).uris).to.deep.equal([ORDERS]);
  });

  it('refuses a key Weft does not sign (another curve, short RSA, Ed25519), or not a key, saying what to use', () => {
    const pem = (k: KeyObject): string => k.export({ type: 'pkcs8', format: 'pem' }).toString();
    const p384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' });
    expect(() => createCsr(ORDERS, pem(p384.privateKey))).to.throw(PkiError, /is ECDSA secp384r1; Weft accepts ECDSA P-256 keys .* generateKeyPair/);
    const ed = generateKeyPairSync('ed25519');
    expect(() => createCsr(ORDERS, pem(ed.privateKey))).to.throw(PkiError, /is ed25519/);
    expect(() => createCsr(ORDERS, 'not a key')).to.throw(PkiError, /not a PEM key/);
  });

  it('encodes object identifiers as X.690 says (multi-byte arcs)', () => {
    expect(oid('2.5.29.17').toString('hex')).to.equal('0603551d11');
    expect(oid('1.2.840.113549.1.9.14').toString('hex')).to.equal('06092a864886f70d01090e');
  });
});
