import { createPublicKey, type KeyObject } from 'node:crypto';
import { PkiError } from './errors';
import { keyProblem } from './key-policy';

/** A public key a certificate is issued for: read and checked once, then signed without re-reading. */
export interface SubjectKey {
  readonly key: KeyObject;
  /** Its SubjectPublicKeyInfo, DER, as the certificate carries it. */
  readonly spkiDer: Buffer;
  readonly type: 'ec' | 'rsa';
}

/**
 * The fixed head of every P-256 SubjectPublicKeyInfo (RFC 5480): id-ecPublicKey, prime256v1, then
 * a BIT STRING holding an uncompressed point (04 || X || Y, 32 bytes each).
 */
const P256_SPKI_HEAD = Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200' + '04', 'hex');
const P256_SPKI_LENGTH = P256_SPKI_HEAD.length + 64;

/**
 * Reads a public key from its SPKI DER and checks that Weft signs for it (`keyProblem`); throws
 * WEFT_ERR_UNSUPPORTED_KEY naming the key otherwise, and `unreadable` for bytes that are no key.
 * A P-256 key is recognized by its fixed encoding and imported from its coordinates: OpenSSL 3's
 * generic DER decoder, and the key-detail and export calls around it, were most of what issuing
 * cost in the control plane's profile (bench:control-plane).
 */
export function subjectKeyFromSpki(spkiDer: Buffer, unreadable: (message: string) => PkiError): SubjectKey {
  if (spkiDer.length === P256_SPKI_LENGTH && spkiDer.subarray(0, P256_SPKI_HEAD.length).equals(P256_SPKI_HEAD)) {
    const x = spkiDer.subarray(P256_SPKI_HEAD.length, P256_SPKI_HEAD.length + 32).toString('base64url');
    const y = spkiDer.subarray(P256_SPKI_HEAD.length + 32).toString('base64url');
    try {
      // OpenSSL checks that the point is on the curve.
      return { key: createPublicKey({ key: { kty: 'EC', crv: 'P-256', x, y }, format: 'jwk' }), spkiDer, type: 'ec' };
    } catch (err) {
      throw unreadable(`the P-256 public key is not a point on the curve: ${(err as Error).message}`);
    }
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: spkiDer, format: 'der', type: 'spki' });
  } catch (err) {
    throw unreadable(`the public key cannot be read: ${(err as Error).message}`);
  }
  const problem = keyProblem(key);
  if (problem) throw new PkiError('WEFT_ERR_UNSUPPORTED_KEY', problem);
  return { key, spkiDer, type: key.asymmetricKeyType === 'rsa' ? 'rsa' : 'ec' };
}

/** The same from SPKI PEM (the form `generateKeyPair` hands out). */
export function subjectKeyFromPem(pem: string): SubjectKey {
  let der: Buffer;
  try {
    der = createPublicKey(pem).export({ type: 'spki', format: 'der' });
  } catch (err) {
    throw new PkiError('WEFT_ERR_BAD_KEY', `the public key cannot be read (PEM SubjectPublicKeyInfo expected): ${(err as Error).message}`);
  }
  return subjectKeyFromSpki(der, (message) => new PkiError('WEFT_ERR_BAD_KEY', message));
}
