import { expect } from 'chai';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { createCsr, generateKeyPair, parseCsr, PkiError } from '../src';
import { oid } from '../src/der';

const ORDERS = 'spiffe://weft.local/ns/default/sa/orders';
const spki = (pem: string): string => createPublicKey(pem).export({ type: 'spki', format: 'der' }).toString('hex');

describe('createCsr (node:crypto, no node-forge)', function () {
  this.timeout(20_000);
  const key = generateKeyPair();

  it('builds a request the CA side (node-forge) reads and verifies: the identity as the only URI SAN, the caller\'s key', () => {
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
    const pem = createCsr(ORDERS, key.privateKeyPem);
    const other = createCsr(ORDERS, generateKeyPair().privateKeyPem);
    // Splice the other request's signature onto this one's body: the signature no longer verifies.
    const der = (p: string): Buffer => Buffer.from(p.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64');
    const mine = der(pem);
    const theirs = der(other);
    const forged = Buffer.concat([mine.subarray(0, mine.length - 256), theirs.subarray(theirs.length - 256)]);
    const forgedPem = `-----BEGIN CERTIFICATE REQUEST-----\n${forged.toString('base64').replace(/.{1,64}/g, '$&\n')}-----END CERTIFICATE REQUEST-----\n`;
    expect(() => parseCsr(forgedPem)).to.throw(PkiError, /signature does not verify/);
  });

  it('refuses a key that is not RSA, or not a key, saying what to use', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256', privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
    expect(() => createCsr(ORDERS, ec.privateKey)).to.throw(PkiError, /is ec; CSRs are signed with RSA keys/);
    expect(() => createCsr(ORDERS, 'not a key')).to.throw(PkiError, /not a PEM key/);
  });

  it('encodes object identifiers as X.690 says (multi-byte arcs)', () => {
    expect(oid('2.5.29.17').toString('hex')).to.equal('0603551d11');
    expect(oid('1.2.840.113549.1.9.14').toString('hex')).to.equal('06092a864886f70d01090e');
  });
});
