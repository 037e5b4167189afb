import { sign, type KeyObject } from 'node:crypto';
import { NULL, oid, sequence } from './der';
import { keyProblem } from './key-policy';

/** AlgorithmIdentifiers of the two signatures Weft makes and accepts (RFC 4055, RFC 5758). */
export const SIGNATURE_OID = Object.freeze({
  sha256WithRSAEncryption: '1.2.840.113549.1.1.11',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
});

/** A private key with the AlgorithmIdentifier its signatures carry. */
export interface SigningKey {
  readonly key: KeyObject;
  /** DER AlgorithmIdentifier: RSA's has NULL parameters, ECDSA's none (RFC 5758 3.2). */
  readonly algorithm: Buffer;
  /** The signature over `data` in OpenSSL: PKCS#1 v1.5 for RSA, DER ECDSA-Sig-Value for ECDSA. */
  sign(data: Buffer): Buffer;
}

/** Throws (with the reason) for keys Weft does not sign with; see `keyProblem`. */
export function signingKey(key: KeyObject): SigningKey {
  const problem = keyProblem(key);
  if (problem) throw new Error(problem);
  const algorithm = key.asymmetricKeyType === 'rsa' ? sequence(oid(SIGNATURE_OID.sha256WithRSAEncryption), NULL) : sequence(oid(SIGNATURE_OID.ecdsaWithSha256));
  return { key, algorithm, sign: (data) => sign('sha256', data, key) };
}
