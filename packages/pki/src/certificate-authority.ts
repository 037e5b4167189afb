import forge from 'node-forge';
import { certificateInfo, splitPemChain } from './certificate-info';
import { PkiError } from './errors';
import { altNamesExtension, forgePrivateKey, randomSerial, type SubjectAltNames } from './forge-helpers';
import { generateKeyPair } from './keys';

/** Leaves start a minute in the past so that a peer whose clock runs slightly behind accepts them. */
const CLOCK_SKEW_MS = 60_000;
const DEFAULT_ROOT_VALIDITY_DAYS = 3650;

export interface IssueOptions extends SubjectAltNames {
  readonly publicKeyPem: string;
  readonly ttlMs: number;
  /** `workload` certificates serve and call (sidecars); `server` and `client` do one of them. */
  readonly usage: 'workload' | 'server' | 'client';
  readonly commonName?: string;
}

export interface IssuedCertificate {
  readonly certificatePem: string;
  /** The leaf, then any intermediates up to (not including) the root. */
  readonly chainPem: readonly string[];
  readonly notAfter: Date;
  readonly serialNumber: string;
}

export interface CaMaterial {
  /** The signing certificate: the root itself, or an intermediate the operator brought. */
  readonly certificatePem: string;
  readonly privateKeyPem: string;
  /** Certificates between the signing certificate and the root, if the signer is an intermediate. */
  readonly intermediatesPem?: readonly string[];
  /** The root that workloads trust. Defaults to the signing certificate. */
  readonly rootPem?: string;
}

/**
 * The mesh certificate authority: signs workload, control-plane and operator certificates.
 * The private key is held in a #private field and never leaves this object.
 */
export class CertificateAuthority {
  readonly #cert: forge.pki.Certificate;
  readonly #key: forge.pki.rsa.PrivateKey;
  readonly #keyPem: string;
  readonly #signerPem: string;
  readonly #intermediates: readonly string[];
  readonly #rootPem: string;

  private constructor(material: CaMaterial) {
    try {
      this.#cert = forge.pki.certificateFromPem(material.certificatePem);
      this.#key = forgePrivateKey(material.privateKeyPem);
    } catch (err) {
      throw new PkiError('WEFT_ERR_BAD_CERTIFICATE', `the CA certificate or key cannot be read (RSA PEM expected): ${(err as Error).message}`);
    }
    const pub = this.#cert.publicKey as forge.pki.rsa.PublicKey;
    if (pub.n.compareTo(this.#key.n) !== 0) {
      throw new PkiError('WEFT_ERR_BAD_KEY', 'the CA private key does not match the CA certificate');
    }
    if (!certificateInfo(material.certificatePem).isCa) {
      throw new PkiError('WEFT_ERR_BAD_CERTIFICATE', 'the CA certificate is not a CA (basicConstraints cA is not set)');
    }
    this.#keyPem = material.privateKeyPem;
    this.#signerPem = material.certificatePem;
    this.#intermediates = material.intermediatesPem ?? [];
    this.#rootPem = material.rootPem ?? material.certificatePem;
  }

  /** A new self-signed root for a trust domain. */
  static createRoot(trustDomain: string, validityDays = DEFAULT_ROOT_VALIDITY_DAYS): CertificateAuthority {
    const keys = generateKeyPair(2048);
    const key = forgePrivateKey(keys.privateKeyPem);
    const cert = forge.pki.createCertificate();
    cert.publicKey = forge.pki.publicKeyFromPem(keys.publicKeyPem);
    cert.serialNumber = randomSerial();
    const now = Date.now();
    cert.validity.notBefore = new Date(now - CLOCK_SKEW_MS);
    cert.validity.notAfter = new Date(now + validityDays * 86_400_000);
    const subject = [
      { name: 'organizationName', value: 'Weft' },
      { name: 'commonName', value: `Weft root CA for ${trustDomain}` },
    ];
    cert.setSubject(subject);
    cert.setIssuer(subject);
    cert.setExtensions([
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
      { name: 'subjectKeyIdentifier' },
      altNamesExtension({ uris: [`spiffe://${trustDomain}`] }),
    ]);
    cert.sign(key, forge.md.sha256.create());
    return new CertificateAuthority({ certificatePem: forge.pki.certificateToPem(cert), privateKeyPem: keys.privateKeyPem });
  }

  static fromPem(material: CaMaterial): CertificateAuthority {
    return new CertificateAuthority(material);
  }

  /** The root certificate workloads trust. */
  get rootPem(): string {
    return this.#rootPem;
  }

  /** For persisting the CA in the control plane's store (written 0600). */
  exportMaterial(): CaMaterial {
    return { certificatePem: this.#signerPem, privateKeyPem: this.#keyPem, intermediatesPem: this.#intermediates, rootPem: this.#rootPem };
  }

  issue(options: IssueOptions): IssuedCertificate {
    if (!(options.ttlMs > 0)) throw new PkiError('WEFT_ERR_BAD_CERTIFICATE', 'a certificate TTL must be positive');
    const cert = forge.pki.createCertificate();
    try {
      cert.publicKey = forge.pki.publicKeyFromPem(options.publicKeyPem);
    } catch (err) {
      throw new PkiError('WEFT_ERR_BAD_KEY', `the public key cannot be read (RSA expected): ${(err as Error).message}`);
    }
    cert.serialNumber = randomSerial();
    const now = Date.now();
    const caNotAfter = this.#cert.validity.notAfter.getTime();
    cert.validity.notBefore = new Date(now - CLOCK_SKEW_MS);
    // A leaf never outlives the certificate that signed it.
    cert.validity.notAfter = new Date(Math.min(now + options.ttlMs, caNotAfter));
    cert.setSubject(options.commonName ? [{ name: 'commonName', value: options.commonName }] : []);
    cert.setIssuer(this.#cert.subject.attributes);
    cert.setExtensions([
      { name: 'basicConstraints', cA: false, critical: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      {
        name: 'extKeyUsage',
        serverAuth: options.usage !== 'client',
        clientAuth: options.usage !== 'server',
      },
      { name: 'subjectKeyIdentifier' },
      { name: 'authorityKeyIdentifier', keyIdentifier: this.#cert.generateSubjectKeyIdentifier().getBytes() },
      // An empty subject requires the SAN extension to be critical (RFC 5280, 4.2.1.6).
      { ...altNamesExtension(options), critical: !options.commonName },
    ]);
    cert.sign(this.#key, forge.md.sha256.create());
    const certificatePem = forge.pki.certificateToPem(cert);
    const chain = this.#rootPem === this.#signerPem ? [] : [this.#signerPem, ...this.#intermediates];
    return {
      certificatePem,
      chainPem: [certificatePem, ...chain.flatMap(splitPemChain)],
      notAfter: cert.validity.notAfter,
      serialNumber: cert.serialNumber,
    };
  }
}
