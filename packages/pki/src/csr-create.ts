import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { subjectAltName } from './certificate-extensions';
import { bitString, oid, sequence, set, smallInteger, tlv } from './der';
import { PkiError } from './errors';
import { signingKey } from './signing-key';

/** PKCS#9 extensionRequest: the extensions a CSR asks for. */
export const EXTENSION_REQUEST_OID = '1.2.840.113549.1.9.14';
/** CertificationRequestInfo.attributes: [0] IMPLICIT SET OF Attribute. */
const ATTRIBUTES_TAG = 0xa0;

/**
 * Builds a PEM PKCS#10 CSR (RFC 2986) asking for one SPIFFE identity: empty subject, the identity
 * as the only URI SAN in an extensionRequest, signed with SHA-256 by the caller's key (ECDSA
 * P-256, what `generateKeyPair` makes, or RSA of 2048 bits or more). Made with node:crypto so
 * that the sidecar does not load node-forge.
 */
export function createCsr(spiffeId: string, privateKeyPem: string): string {
  const key = privateKey(privateKeyPem);
  let signer;
  try {
    signer = signingKey(key);
  } catch (err) {
    throw new PkiError('WEFT_ERR_UNSUPPORTED_KEY', `${(err as Error).message}: make the key with generateKeyPair()`);
  }
  const extensionRequest = sequence(oid(EXTENSION_REQUEST_OID), set(sequence(subjectAltName({ uris: [spiffeId] }, false))));
  const spki = createPublicKey(key).export({ type: 'spki', format: 'der' });
  const info = sequence(smallInteger(0), sequence(), spki, tlv(ATTRIBUTES_TAG, extensionRequest));
  const der = sequence(info, signer.algorithm, bitString(signer.sign(info)));
  const body = der.toString('base64').replace(/.{1,64}/g, '$&\n');
  return `-----BEGIN CERTIFICATE REQUEST-----\n${body}-----END CERTIFICATE REQUEST-----\n`;
}

function privateKey(pem: string): KeyObject {
  try {
    return createPrivateKey(pem);
  } catch (err) {
    throw new PkiError('WEFT_ERR_BAD_KEY', `the private key is not a PEM key: ${(err as Error).message}`);
  }
}
