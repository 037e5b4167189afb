import { X509Certificate } from 'node:crypto';
import { certificateParts } from './certificate-parts';

/**
 * Why a certificate cannot sign other certificates, or undefined when it can: it must be a CA
 * (basicConstraints cA) and, if it restricts its key usage, allow keyCertSign (RFC 5280 4.2.1.3).
 * Validity, key type and key matching are checked elsewhere.
 */
export function signingProblem(pem: string): string | undefined {
  let cert: X509Certificate;
  let keyCertSign: boolean | undefined;
  try {
    cert = new X509Certificate(pem);
    keyCertSign = certificateParts(cert).keyCertSign;
  } catch (err) {
    return `it cannot be read (a PEM X.509 certificate is expected): ${(err as Error).message}`;
  }
  if (!cert.ca) return 'it is not a CA certificate (basicConstraints cA is not set)';
  if (keyCertSign === false) return 'its key usage does not allow signing certificates (keyCertSign)';
  return undefined;
}
