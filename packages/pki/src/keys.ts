import { generateKeyPairSync } from 'node:crypto';
import { EC_CURVE } from './key-policy';

export interface KeyPairPem {
  readonly privateKeyPem: string;
  readonly publicKeyPem: string;
}

/**
 * `ec-p256`: ECDSA on P-256, what workloads and new CAs use (Linkerd's and Istio's choice: a
 * signature costs a fraction of RSA-2048's, a key is made in well under a millisecond).
 * `rsa-2048` remains for tests of meshes whose CA an earlier Weft created with RSA.
 */
export type KeyType = 'ec-p256' | 'rsa-2048';

/** Generates a key pair with node:crypto (native, fast): PKCS#8 and SPKI PEM. */
export function generateKeyPair(type: KeyType = 'ec-p256'): KeyPairPem {
  const publicKeyEncoding = { type: 'spki', format: 'pem' } as const;
  const privateKeyEncoding = { type: 'pkcs8', format: 'pem' } as const;
  const { privateKey, publicKey } =
    type === 'rsa-2048'
      ? generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding, privateKeyEncoding })
      : generateKeyPairSync('ec', { namedCurve: EC_CURVE, publicKeyEncoding, privateKeyEncoding });
  return { privateKeyPem: privateKey, publicKeyPem: publicKey };
}
