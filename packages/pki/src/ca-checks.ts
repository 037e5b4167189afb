import forge from 'node-forge';

/**
 * Why a certificate cannot sign other certificates, or undefined when it can: it must be a CA
 * (basicConstraints cA) and, if it restricts its key usage, allow keyCertSign (RFC 5280 4.2.1.3).
 * Validity and key matching are checked elsewhere.
 */
export function signingProblem(pem: string): string | undefined {
  let cert: forge.pki.Certificate;
  try {
    cert = forge.pki.certificateFromPem(pem);
  } catch (err) {
    return `it cannot be read (an RSA certificate in PEM is expected): ${(err as Error).message}`;
  }
  const constraints = cert.getExtension('basicConstraints') as { cA?: boolean } | undefined;
  if (!constraints?.cA) return 'it is not a CA certificate (basicConstraints cA is not set)';
  const usage = cert.getExtension('keyUsage') as { keyCertSign?: boolean } | undefined;
  if (usage && !usage.keyCertSign) return 'its key usage does not allow signing certificates (keyCertSign)';
  return undefined;
}
