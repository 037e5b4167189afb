import { randomBytes } from 'node:crypto';
import forge from 'node-forge';

/** A positive 128-bit serial number in hex (RFC 5280 allows up to 20 octets; keep the top bit clear). */
export function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] as number) & 0x7f;
  return bytes.toString('hex');
}

/** forge wants a private key object; node:crypto hands out PKCS#8 PEM. */
export function forgePrivateKey(pem: string): forge.pki.rsa.PrivateKey {
  return forge.pki.privateKeyFromPem(pem) as forge.pki.rsa.PrivateKey;
}

export interface SubjectAltNames {
  readonly uris?: readonly string[];
  readonly dnsNames?: readonly string[];
  readonly ipAddresses?: readonly string[];
}

/** The subjectAltName extension in forge's vocabulary (type 6 = URI, 2 = DNS, 7 = IP). */
export function altNamesExtension(sans: SubjectAltNames): { name: string; altNames: object[] } {
  return {
    name: 'subjectAltName',
    altNames: [
      ...(sans.uris ?? []).map((value) => ({ type: 6, value })),
      ...(sans.dnsNames ?? []).map((value) => ({ type: 2, value })),
      ...(sans.ipAddresses ?? []).map((ip) => ({ type: 7, ip })),
    ],
  };
}
