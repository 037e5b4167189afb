import { constants, createPrivateKey, privateEncrypt, type KeyObject } from 'node:crypto';
import type forge from 'node-forge';

/** DER of DigestInfo's head for SHA-256 (RFC 8017, 9.2 note 1): the 32-byte digest follows. */
const SHA256_DIGEST_INFO = Buffer.from('3031300d060960864801650304020105000420', 'hex');

/** What forge's `certificate.sign(key, md)` calls on its key: `key.sign(md)`, a binary string back. */
export interface ForgeSigner {
  sign(md: forge.md.MessageDigest): string;
}

/**
 * An RSA signer for forge's `certificate.sign` that does the private-key operation in OpenSSL.
 * forge builds the certificate and hashes the TBSCertificate; signing in forge's JavaScript
 * big-integer code took about 30 ms per certificate, which capped the CA near 30 signatures per
 * second. The signature is the same RSASSA-PKCS1-v1_5 (deterministic) forge would compute:
 * DigestInfo(SHA-256, digest) padded with block type 1 and raised to the private exponent.
 */
export function nativeRsaSigner(privateKeyPem: string): ForgeSigner {
  const key: KeyObject = createPrivateKey(privateKeyPem);
  return {
    sign(md: forge.md.MessageDigest): string {
      if (md.algorithm !== 'sha256') throw new Error(`only SHA-256 certificates are signed here, not ${md.algorithm}`);
      const digest = Buffer.from(md.digest().getBytes(), 'binary');
      const signature = privateEncrypt({ key, padding: constants.RSA_PKCS1_PADDING }, Buffer.concat([SHA256_DIGEST_INFO, digest]));
      return signature.toString('binary');
    },
  };
}

/** forge types `certificate.sign` for its own key objects; it only ever calls `sign(md)` on them. */
export function asForgeKey(signer: ForgeSigner): forge.pki.rsa.PrivateKey {
  return signer as unknown as forge.pki.rsa.PrivateKey;
}
