import type { KeyObject } from 'node:crypto';

/** The curve Weft's certificates use: P-256, as Linkerd's and Istio's ECDSA certificates do. */
export const EC_CURVE = 'prime256v1';
export const MIN_RSA_BITS = 2048;

/** How messages name a key: `ECDSA P-256`, `RSA 2048`, `ECDSA secp384r1`, `ed25519`. */
export function keyDescription(key: KeyObject): string {
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'ec') return `ECDSA ${details.namedCurve === EC_CURVE ? 'P-256' : (details.namedCurve ?? 'on an unknown curve')}`;
  if (key.asymmetricKeyType === 'rsa') return `RSA ${details.modulusLength ?? '?'}`;
  return key.asymmetricKeyType ?? 'not an asymmetric key';
}

/**
 * Why Weft does not sign or sign with this key, or undefined when it does: ECDSA on P-256, or RSA
 * of 2048 bits or more. Other curves and key types would make certificates that some peers
 * (and Weft's own verifiers, which check one signature algorithm per key type) cannot use.
 */
export function keyProblem(key: KeyObject): string | undefined {
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'ec' && details.namedCurve === EC_CURVE) return undefined;
  if (key.asymmetricKeyType === 'rsa' && (details.modulusLength ?? 0) >= MIN_RSA_BITS) return undefined;
  return `the key is ${keyDescription(key)}; Weft accepts ECDSA P-256 keys (what sidecars make) and RSA keys of ${MIN_RSA_BITS} bits or more`;
}
