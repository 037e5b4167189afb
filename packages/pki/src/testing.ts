import { createPublicKey, sign, type KeyObject } from 'node:crypto';
import { subjectAltName } from './certificate-extensions';
import { EXTENSION_REQUEST_OID } from './csr-create';
import { bitString, oid, sequence, set, smallInteger, tlv } from './der';
import { SIGNATURE_OID } from './signing-key';

/**
 * `@weft/pki/testing`: requests that `createCsr` refuses to make, so that tests can show the CA
 * refusing them (a P-384 or RSA-1024 key, a SHA-1 signature). Never used outside tests.
 */
export function unvalidatedCsr(spiffeId: string, key: KeyObject, options: { algorithmOid?: string; digest?: string } = {}): string {
  const info = sequence(
    smallInteger(0),
    sequence(),
    createPublicKey(key).export({ type: 'spki', format: 'der' }),
    tlv(0xa0, sequence(oid(EXTENSION_REQUEST_OID), set(sequence(subjectAltName({ uris: [spiffeId] }, false))))),
  );
  const algorithmOid = options.algorithmOid ?? (key.asymmetricKeyType === 'rsa' ? SIGNATURE_OID.sha256WithRSAEncryption : SIGNATURE_OID.ecdsaWithSha256);
  const der = sequence(info, sequence(oid(algorithmOid)), bitString(sign(options.digest ?? 'sha256', info, key)));
  return `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64').replace(/.{1,64}/g, '$&\n')}-----END CERTIFICATE REQUEST-----\n`;
}
