import { certificateFingerprint, type CertificateAuthority } from '@weft/pki';

/** What changes together when the mesh's trust changes: who signs, and which roots are trusted. */
export interface AuthorityState {
  /** Signs every new certificate (workloads, the control plane, the operator). */
  readonly ca: CertificateAuthority;
  /** Every root a workload should trust: one, or two during a root rotation. */
  readonly trustBundlePem: readonly string[];
}

/**
 * The mesh's root of trust as it stands now. A root rotation replaces the state in steps (add the
 * new root, sign with it, drop the old one); what derives from it (the serving certificate,
 * weftctl.json, snapshots, the gRPC server's trusted roots) is brought along by
 * `followAuthority`. Readers take the current value each time and never cache it.
 */
export class MeshAuthority {
  readonly trustDomain: string;
  /** True when this start created the CA. */
  readonly created: boolean;
  #state: AuthorityState;
  #fingerprints: { signing: string; bundle: readonly string[] };

  constructor(trustDomain: string, state: AuthorityState, created: boolean) {
    this.trustDomain = trustDomain;
    this.created = created;
    this.#state = state;
    this.#fingerprints = fingerprintsOf(state);
  }

  get ca(): CertificateAuthority {
    return this.#state.ca;
  }

  /** SHA-256 of the signing root's DER, hex: what new join tokens pin and snapshots announce. */
  get rootFingerprint(): string {
    return this.#fingerprints.signing;
  }

  get trustBundlePem(): readonly string[] {
    return this.#state.trustBundlePem;
  }

  /** Fingerprints of the trust bundle, in bundle order. */
  get trustBundleFingerprints(): readonly string[] {
    return this.#fingerprints.bundle;
  }

  /** Replaces the state; new signatures and new readers see it at once. */
  update(state: AuthorityState): void {
    this.#state = Object.freeze({ ca: state.ca, trustBundlePem: Object.freeze([...state.trustBundlePem]) });
    this.#fingerprints = fingerprintsOf(this.#state);
  }
}

function fingerprintsOf(state: AuthorityState): { signing: string; bundle: readonly string[] } {
  return Object.freeze({ signing: certificateFingerprint(state.ca.rootPem), bundle: Object.freeze(state.trustBundlePem.map(certificateFingerprint)) });
}
