/**
 * The sidecar's current certificate and trust bundle. Replaced as a whole on every renewal or
 * bundle change; TLS contexts are rebuilt from it for new handshakes, while open connections keep
 * the context they were made with.
 */
export interface IdentityMaterial {
  readonly spiffeId: string;
  /** Leaf first, then intermediates. */
  readonly certificateChainPem: readonly string[];
  /** Never logged, never in /config, never in an error message. */
  readonly privateKeyPem: string;
  readonly trustBundlePem: readonly string[];
  readonly expiresAtMs: number;
  readonly issuedAtMs: number;
}
