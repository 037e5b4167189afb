import { verify as verifySignature } from 'node:crypto';
import forge from 'node-forge';
import { PkiError } from './errors';

export interface CsrInfo {
  readonly uris: readonly string[];
  readonly dnsNames: readonly string[];
  readonly publicKeyPem: string;
}

interface AltName {
  type: number;
  value?: string;
}

/**
 * Parses a CSR and checks its self-signature, so that a CSR is only accepted from whoever holds
 * its private key. Throws PkiError with a message naming what is wrong.
 */
export function parseCsr(pem: string): CsrInfo {
  let csr: forge.pki.CertificateSigningRequest;
  try {
    csr = forge.pki.certificationRequestFromPem(pem);
  } catch (err) {
    throw new PkiError('WEFT_ERR_BAD_CSR', `the CSR is not a valid PEM PKCS#10 RSA request: ${(err as Error).message}`);
  }
  let signed = false;
  try {
    signed = verifiesNatively(csr) ?? csr.verify();
  } catch {
    // forge (or OpenSSL) throws on a signature it cannot even decode; to the caller that is the same refusal.
  }
  if (!signed) throw new PkiError('WEFT_ERR_BAD_CSR', 'the CSR signature does not verify with its own public key');
  if (!csr.publicKey) throw new PkiError('WEFT_ERR_BAD_CSR', 'the CSR carries no public key');
  const ext = csr.getAttribute({ name: 'extensionRequest' }) as { extensions?: { name: string; altNames?: AltName[] }[] } | null;
  const san = ext?.extensions?.find((e) => e.name === 'subjectAltName');
  const altNames = san?.altNames ?? [];
  return {
    uris: altNames.filter((a) => a.type === 6 && a.value).map((a) => a.value as string),
    dnsNames: altNames.filter((a) => a.type === 2 && a.value).map((a) => a.value as string),
    publicKeyPem: forge.pki.publicKeyToPem(csr.publicKey),
  };
}

const SHA256_WITH_RSA = '1.2.840.113549.1.1.11';

/** What forge keeps of a parsed CSR that its typings leave out. */
interface ParsedCsr {
  readonly certificationRequestInfo?: forge.asn1.Asn1;
  readonly siginfo?: { readonly algorithmOid?: string };
  readonly signature?: string;
}

/**
 * Checks a SHA-256 RSA CSR's self-signature in OpenSSL: forge's JavaScript big-integer
 * verification was the largest single entry of Identity.Sign in the control plane's profile while
 * 1,000 sidecars joined (bench:control-plane). Undefined for any other algorithm: forge checks those.
 */
function verifiesNatively(csr: forge.pki.CertificateSigningRequest): boolean | undefined {
  const parsed = csr as unknown as ParsedCsr;
  if (parsed.siginfo?.algorithmOid !== SHA256_WITH_RSA || !parsed.certificationRequestInfo || typeof parsed.signature !== 'string' || !csr.publicKey) return undefined;
  const info = Buffer.from(forge.asn1.toDer(parsed.certificationRequestInfo).getBytes(), 'binary');
  return verifySignature('sha256', info, forge.pki.publicKeyToPem(csr.publicKey), Buffer.from(parsed.signature, 'binary'));
}
