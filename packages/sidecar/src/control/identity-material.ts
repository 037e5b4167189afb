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
  /**
   * SHA-256 (hex) of the root the certificate chains to, and its serial (lower-case hex): what
   * the control plane is told, so that a root rotation knows who still holds an old-root
   * certificate. Absent only in hand-made material (tests).
   */
  readonly rootFingerprint?: string;
  readonly serialNumber?: string;
}
