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
    signed = csr.verify();
  } catch {
    // forge throws on a signature it cannot even decode; to the caller that is the same refusal.
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
