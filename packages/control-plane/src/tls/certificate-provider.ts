import type { experimental } from '@grpc/grpc-js';

type CaListener = experimental.CaCertificateUpdateListener;
type IdentityListener = experimental.IdentityCertificateUpdateListener;

export interface ProviderMaterial {
  /** Roots that client certificates must chain to (concatenated PEM). */
  readonly caPem: string;
  /** What the server presents: leaf, intermediates, root. */
  readonly chainPem: string;
  readonly privateKeyPem: string;
}

/**
 * Serves both the CA and the identity side of grpc-js's certificate-provider credentials from
 * memory. Updating it re-keys new handshakes without rebinding the port, which is what a serving
 * certificate renewal or a root rotation needs.
 *
 * The first update after a listener is added is delivered on the next tick, as grpc-js's own
 * file-watcher provider does: grpc-js registers its context watcher only after adding the
 * listener, so a synchronous first update would be lost and the server would drop every
 * connection as "credentials not loaded".
 *
 * One object for both roles on purpose: grpc-js 1.14's `createCertificateProviderServerCredentials`
 * hands its (ca, identity) arguments to a constructor that names them the other way round, so
 * with two different objects the roles would be swapped.
 */
export class MemoryCertificateProvider implements experimental.CertificateProvider {
  #material: ProviderMaterial;
  readonly #caListeners = new Set<CaListener>();
  readonly #identityListeners = new Set<IdentityListener>();

  constructor(material: ProviderMaterial) {
    this.#material = material;
  }

  update(material: ProviderMaterial): void {
    this.#material = material;
    for (const listener of this.#caListeners) listener(this.#caUpdate());
    for (const listener of this.#identityListeners) listener(this.#identityUpdate());
  }

  addCaCertificateListener(listener: CaListener): void {
    this.#caListeners.add(listener);
    process.nextTick(() => this.#caListeners.has(listener) && listener(this.#caUpdate()));
  }

  removeCaCertificateListener(listener: CaListener): void {
    this.#caListeners.delete(listener);
  }

  addIdentityCertificateListener(listener: IdentityListener): void {
    this.#identityListeners.add(listener);
    process.nextTick(() => this.#identityListeners.has(listener) && listener(this.#identityUpdate()));
  }

  removeIdentityCertificateListener(listener: IdentityListener): void {
    this.#identityListeners.delete(listener);
  }

  #caUpdate(): experimental.CaCertificateUpdate {
    return { caCertificate: Buffer.from(this.#material.caPem) };
  }

  #identityUpdate(): experimental.IdentityCertificateUpdate {
    return { certificate: Buffer.from(this.#material.chainPem), privateKey: Buffer.from(this.#material.privateKeyPem) };
  }
}
