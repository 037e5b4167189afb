import { verify } from 'node:crypto';
import { EXTENSION_OID } from './certificate-extensions';
import { EXTENSION_REQUEST_OID } from './csr-create';
import { bitStringBytes, children, content, DerError, encoding, expectNode, pemBody, readNode, readOid, type DerNode } from './der-read';
import { PkiError } from './errors';
import { SIGNATURE_OID } from './signing-key';
import { subjectKeyFromSpki, type SubjectKey } from './subject-key';

export interface CsrInfo {
  readonly uris: readonly string[];
  readonly dnsNames: readonly string[];
  /** Subject alternative names of any other kind (IP, e-mail, ...): the mesh signs none. */
  readonly otherNames: number;
  /** The requested key, read and checked once: pass it to `CertificateAuthority.issue` as is. */
  readonly subjectKey: SubjectKey;
  /** The same key as SPKI PEM (made when first read). */
  readonly publicKeyPem: string;
}

/**
 * Parses a PKCS#10 CSR (RFC 2986) and checks it, so that a CSR is only accepted from whoever
 * holds its private key and only for a key Weft signs: the key must be ECDSA P-256 or RSA of at
 * least 2048 bits (WEFT_ERR_UNSUPPORTED_KEY otherwise), the request must be signed with SHA-256
 * by that key (ECDSA with SHA-256, or sha256WithRSAEncryption), and the signature must verify.
 * Read with the DER reader in `der-read.ts` and verified in OpenSSL: node-forge reads RSA only.
 */
export function parseCsr(pem: string): CsrInfo {
  let parsed: { info: Buffer; algorithm: string; signature: Buffer; spki: Buffer; sans: DerNode[] };
  try {
    parsed = read(pemBody(pem, 'CERTIFICATE REQUEST'));
  } catch (err) {
    if (!(err instanceof DerError)) throw err;
    throw new PkiError('WEFT_ERR_BAD_CSR', `the CSR is not a valid PEM PKCS#10 request: ${err.message}`);
  }
  let subjectKey: SubjectKey;
  try {
    subjectKey = subjectKeyFromSpki(parsed.spki, (message) => new PkiError('WEFT_ERR_BAD_CSR', `the CSR's ${message.replace(/^the /, '')}`));
  } catch (err) {
    if (!(err instanceof PkiError) || err.code !== 'WEFT_ERR_UNSUPPORTED_KEY') throw err;
    throw new PkiError('WEFT_ERR_UNSUPPORTED_KEY', `the CSR is refused: ${err.message}. Upgrade the sidecar (it makes P-256 keys), or make the request with such a key`);
  }
  const expected = subjectKey.type === 'rsa' ? SIGNATURE_OID.sha256WithRSAEncryption : SIGNATURE_OID.ecdsaWithSha256;
  if (parsed.algorithm !== expected) {
    throw new PkiError('WEFT_ERR_BAD_CSR', `the CSR is signed with algorithm ${parsed.algorithm}; sign it with SHA-256 (${expected} for this key)`);
  }
  let signed = false;
  try {
    signed = verify('sha256', parsed.info, subjectKey.key, parsed.signature);
  } catch {
    // OpenSSL throws on a signature it cannot even decode; to the caller that is the same refusal.
  }
  if (!signed) throw new PkiError('WEFT_ERR_BAD_CSR', 'the CSR signature does not verify with its own public key');
  const uris: string[] = [];
  const dnsNames: string[] = [];
  let otherNames = 0;
  for (const name of parsed.sans) {
    if (name.tag === 0x86) uris.push(content(name).toString('ascii'));
    else if (name.tag === 0x82) dnsNames.push(content(name).toString('ascii'));
    else otherNames++;
  }
  let cachedPem: string | undefined;
  return {
    uris,
    dnsNames,
    otherNames,
    subjectKey,
    get publicKeyPem(): string {
      return (cachedPem ??= subjectKey.key.export({ type: 'spki', format: 'pem' }).toString());
    },
  };
}

/** CertificationRequest ::= SEQUENCE { certificationRequestInfo, signatureAlgorithm, signature BIT STRING }. */
function read(der: Buffer): { info: Buffer; algorithm: string; signature: Buffer; spki: Buffer; sans: DerNode[] } {
  const top = readNode(der);
  if (top.tag !== 0x30 || top.end !== der.length) throw new DerError('not a single DER SEQUENCE');
  const parts = children(top);
  const info = expectNode(parts, 0, 0x30, 'certificationRequestInfo');
  const algorithm = children(expectNode(parts, 1, 0x30, 'the signature algorithm'))[0];
  if (!algorithm) throw new DerError('the signature algorithm is empty');
  const signature = bitStringBytes(expectNode(parts, 2, 0x03, 'the signature'));
  // CertificationRequestInfo ::= SEQUENCE { version, subject, subjectPKInfo, attributes [0] }
  const fields = children(info);
  const spki = expectNode(fields, 2, 0x30, 'the public key');
  const attributes = fields[3]?.tag === 0xa0 ? children(fields[3]) : [];
  return { info: encoding(info), algorithm: readOid(algorithm), signature, spki: encoding(spki), sans: requestedSans(attributes) };
}

/** The GeneralNames of the subjectAltName extension inside the extensionRequest attribute, if any. */
function requestedSans(attributes: readonly DerNode[]): DerNode[] {
  for (const attribute of attributes) {
    const [type, values] = children(attribute);
    if (!type || !values || readOid(type) !== EXTENSION_REQUEST_OID) continue;
    const [extensions] = children(values);
    for (const extension of extensions ? children(extensions) : []) {
      const fields = children(extension);
      const value = fields[fields.length - 1];
      if (fields[0] && readOid(fields[0]) === EXTENSION_OID.subjectAltName && value?.tag === 0x04) return children(readNode(content(value)));
    }
  }
  return [];
}
