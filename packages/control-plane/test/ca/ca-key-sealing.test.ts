import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { openKey, parseEncryptionKey, sealKey } from '../../src/ca/ca-key-sealing';

describe('CA key sealing (the CA private key at rest in etcd)', () => {
  const key = randomBytes(32);
  const pem = '-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n';

  it('seals with AES-256-GCM so that nothing of the PEM is stored, and opens it back', () => {
    const sealed = sealKey(pem, key, '/weft/ca/authority');
    expect(JSON.stringify(sealed)).to.not.include('PRIVATE KEY');
    expect(openKey(sealed, key, '/weft/ca/authority', 'test')).to.equal(pem);
  });

  it('refuses another key, a tampered ciphertext, or a sealed key moved to another slot', () => {
    const sealed = sealKey(pem, key, '/weft/ca/authority');
    const tampered = { ...sealed, ciphertext: Buffer.from('x'.repeat(40)).toString('base64') };
    for (const [s, k, aad] of [[sealed, randomBytes(32), '/weft/ca/authority'], [tampered, key, '/weft/ca/authority'], [sealed, key, '/weft/ca/rotation']] as const) {
      expect(() => openKey(s, k, aad, 'test')).to.throw(/cannot be decrypted with this encryption key/).with.property('code', 'WEFT_ERR_BAD_CA');
    }
  });

  it('reads a key as 64 hex digits, base64 of 32 bytes, or 32 raw bytes, and refuses anything shorter', () => {
    expect(parseEncryptionKey(Buffer.from(`${key.toString('hex')}\n`), 'f')).to.deep.equal(key);
    expect(parseEncryptionKey(Buffer.from(key.toString('base64')), 'f')).to.deep.equal(key);
    expect(parseEncryptionKey(key, 'f')).to.deep.equal(key);
    expect(() => parseEncryptionKey(Buffer.from('too-short'), 'WEFT_ETCD_ENCRYPTION_KEY')).to.throw(/WEFT_ETCD_ENCRYPTION_KEY is not a 256-bit key/);
  });
});
