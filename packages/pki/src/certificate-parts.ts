import { X509Certificate } from 'node:crypto';
import { bitStringBytes, children, content, DerError, encoding, expectNode, readNode, readOid, type DerNode } from './der-read';
import { EXTENSION_OID, KEY_USAGE } from './certificate-extensions';

/** What the CA reads of a certificate that node:crypto's X509Certificate does not expose. */
export interface CertificateParts {
  /** The subject Name's DER: a leaf's issuer must repeat it byte for byte. */
  readonly subjectDer: Buffer;
  readonly spkiDer: Buffer;
  /** subjectKeyIdentifier's value, when the certificate carries one. */
  readonly subjectKeyIdentifier?: Buffer;
  /** undefined when the certificate has no keyUsage extension (then every usage is allowed). */
  readonly keyCertSign?: boolean;
}

/**
 * TBSCertificate ::= SEQUENCE { [0] version, serialNumber, signature, issuer, validity, subject,
 * subjectPublicKeyInfo, ..., [3] extensions } (RFC 5280 4.1). Throws DerError when malformed.
 */
export function certificateParts(cert: X509Certificate): CertificateParts {
  const [tbs] = children(readNode(cert.raw));
  if (!tbs) throw new DerError('the certificate has no TBSCertificate');
  const fields = children(tbs);
  const offset = fields[0]?.tag === 0xa0 ? 1 : 0; // v1 certificates omit the version
  const subject = expectNode(fields, offset + 4, 0x30, 'the subject');
  const spki = expectNode(fields, offset + 5, 0x30, 'the public key');
  const extensionList = fields.find((f) => f.tag === 0xa3);
  const extensions = extensionList ? readExtensions(extensionList) : new Map<string, DerNode>();
  const ski = extensions.get(EXTENSION_OID.subjectKeyIdentifier);
  const usage = extensions.get(EXTENSION_OID.keyUsage);
  return {
    subjectDer: Buffer.from(encoding(subject)),
    spkiDer: Buffer.from(encoding(spki)),
    ...(ski ? { subjectKeyIdentifier: Buffer.from(content(readNode(content(ski)))) } : {}),
    ...(usage ? { keyCertSign: hasBit(bitStringBytes(readNode(content(usage))), KEY_USAGE.keyCertSign) } : {}),
  };
}

/** Each extension's extnValue OCTET STRING, by OID. */
function readExtensions(explicit: DerNode): Map<string, DerNode> {
  const out = new Map<string, DerNode>();
  const [list] = children(explicit);
  for (const ext of list ? children(list) : []) {
    const parts = children(ext);
    const value = parts[parts.length - 1];
    if (parts[0] && value?.tag === 0x04) out.set(readOid(parts[0]), value);
  }
  return out;
}

const hasBit = (bits: Buffer, bit: number): boolean => (((bits[bit >> 3] ?? 0) >> (7 - (bit & 7))) & 1) === 1;
