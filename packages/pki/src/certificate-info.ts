import { createHash, X509Certificate } from 'node:crypto';
import { PkiError } from './errors';
import { sanValues } from './san';

export interface CertificateInfo {
  readonly uris: readonly string[];
  readonly dnsNames: readonly string[];
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly serialNumber: string;
  readonly subject: string;
  readonly issuer: string;
  readonly isCa: boolean;
  readonly fingerprintSha256: string;
}

/** Splits PEM text holding several certificates into one PEM string each. */
export function splitPemChain(pem: string): string[] {
  return pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)?.map((c) => `${c}\n`) ?? [];
}

/** SHA-256 of the certificate's DER, lower-case hex without separators: what join tokens pin. */
export function certificateFingerprint(pem: string): string {
  return createHash('sha256').update(new X509Certificate(pem).raw).digest('hex');
}

export function certificateInfo(pem: string): CertificateInfo {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch (err) {
    throw new PkiError('WEFT_ERR_BAD_CERTIFICATE', `not a PEM certificate: ${(err as Error).message}`);
  }
  return {
    uris: sanValues(cert.subjectAltName, 'URI:'),
    dnsNames: sanValues(cert.subjectAltName, 'DNS:'),
    notBefore: new Date(cert.validFrom),
    notAfter: new Date(cert.validTo),
    serialNumber: cert.serialNumber,
    subject: cert.subject ?? '',
    issuer: cert.issuer ?? '',
    isCa: cert.ca,
    fingerprintSha256: createHash('sha256').update(cert.raw).digest('hex'),
  };
}

/**
 * Verifies that `chainPem` (leaf first, then intermediates) leads to one of `rootsPem`, with every
 * certificate inside its validity period at `now`. Returns a reason on failure.
 */
export function verifyChain(chainPem: readonly string[], rootsPem: readonly string[], now = new Date()): { ok: true } | { ok: false; reason: string } {
  const chain = chainPem.map((p) => new X509Certificate(p));
  const roots = rootsPem.map((p) => new X509Certificate(p));
  if (chain.length === 0) return { ok: false, reason: 'no certificate presented' };
  for (const cert of [...chain, ...roots]) {
    if (new Date(cert.validFrom) > now || new Date(cert.validTo) < now) {
      return { ok: false, reason: `certificate ${cert.subject || cert.serialNumber} is outside its validity period` };
    }
  }
  for (let i = 0; i + 1 < chain.length; i++) {
    const child = chain[i] as X509Certificate;
    const parent = chain[i + 1] as X509Certificate;
    if (!parent.ca || !child.checkIssued(parent) || !child.verify(parent.publicKey)) {
      return { ok: false, reason: `certificate ${i} is not signed by certificate ${i + 1} of the chain` };
    }
  }
  const top = chain[chain.length - 1] as X509Certificate;
  const anchor = roots.find((root) => top.checkIssued(root) && top.verify(root.publicKey));
  if (!anchor) return { ok: false, reason: 'the chain does not lead to a root in the trust bundle' };
  return { ok: true };
}

/**
 * The root among `rootsPem` that `chainPem` verifies to, or undefined. What a rotation asks of
 * every certificate: which root does it hang from (so that the old one can be retired)?
 */
export function chainRoot(chainPem: readonly string[], rootsPem: readonly string[], now = new Date()): string | undefined {
  return rootsPem.find((root) => verifyChain(chainPem, [root], now).ok);
}

/**
 * One spelling for serial numbers: forge writes lower-case hex with leading zeros, node:tls
 * upper-case without them. Compared as lower-case hex without leading zeros.
 */
export function normalizeSerial(serial: string): string {
  return serial.toLowerCase().replace(/^0+(?=.)/, '');
}
