import { createPrivateKey, createPublicKey, sign, type KeyObject } from 'node:crypto';
import { bitString, NULL, octetString, oid, sequence, set, smallInteger, tlv } from './der';
import { PkiError } from './errors';

const OID = Object.freeze({
  extensionRequest: '1.2.840.113549.1.9.14',
  subjectAltName: '2.5.29.17',
  sha256WithRSAEncryption: '1.2.840.113549.1.1.11',
});
/** GeneralName uniformResourceIdentifier: [6] IMPLICIT IA5String. */
const URI_NAME_TAG = 0x86;
/** CertificationRequestInfo.attributes: [0] IMPLICIT SET OF Attribute. */
const ATTRIBUTES_TAG = 0xa0;

/**
 * Builds a PEM PKCS#10 CSR (RFC 2986) asking for one SPIFFE identity: empty subject, the identity
 * as the only URI SAN in an extensionRequest, signed SHA-256 with the caller's RSA key. The same
 * request node-forge built, made with node:crypto so that the sidecar does not load forge.
 */
export function createCsr(spiffeId: string, privateKeyPem: string): string {
  const key = rsaPrivateKey(privateKeyPem);
  const san = sequence(oid(OID.subjectAltName), octetString(sequence(tlv(URI_NAME_TAG, Buffer.from(spiffeId, 'ascii')))));
  const extensionRequest = sequence(oid(OID.extensionRequest), set(sequence(san)));
  const spki = createPublicKey(key).export({ type: 'spki', format: 'der' });
  const info = sequence(smallInteger(0), sequence(), spki, tlv(ATTRIBUTES_TAG, extensionRequest));
  const der = sequence(info, sequence(oid(OID.sha256WithRSAEncryption), NULL), bitString(sign('sha256', info, key)));
  const body = der.toString('base64').replace(/.{1,64}/g, '$&\n');
  return `-----BEGIN CERTIFICATE REQUEST-----\n${body}-----END CERTIFICATE REQUEST-----\n`;
}

function rsaPrivateKey(pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (err) {
    throw new PkiError('WEFT_ERR_BAD_KEY', `the private key is not a PEM key: ${(err as Error).message}`);
  }
  if (key.asymmetricKeyType !== 'rsa') {
    throw new PkiError('WEFT_ERR_BAD_KEY', `the private key is ${key.asymmetricKeyType ?? 'not asymmetric'}; CSRs are signed with RSA keys (generateKeyPair makes one)`);
  }
  return key;
}
