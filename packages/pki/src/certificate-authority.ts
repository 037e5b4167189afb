import forge from 'node-forge';
import { certificateInfo, splitPemChain } from './certificate-info';
import { PkiError } from './errors';
import { altNamesExtension, forgePrivateKey, randomSerial, type SubjectAltNames } from './forge-helpers';
import { generateKeyPair } from './keys';
import { asForgeKey, nativeRsaSigner, type ForgeSigner } from './rsa-sign';

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

/** A CA below this one (an intermediate), as `issueSubordinate` returns it. */
export interface SubordinateOptions {
  readonly commonName: string;
  readonly ttlMs: number;
  /** How many more CAs may sit below it; 0: it signs leaves only. */
  readonly pathLength?: number;
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
  /** Signs in OpenSSL: forge's JavaScript RSA is ~30x slower and capped issuance near 30/s. */
  readonly #signer: ForgeSigner;
  readonly #keyPem: string;
  readonly #signerPem: string;
  readonly #intermediates: readonly string[];
  readonly #rootPem: string;
  /** No leaf outlives any certificate above it, or it would stop verifying before its own expiry. */
  readonly #chainNotAfterMs: number;
  /** What leaves name as their authority key: the signer's own SKI when it has one. */
  readonly #keyIdentifier: string;

  private constructor(material: CaMaterial) {
    try {
      this.#cert = forge.pki.certificateFromPem(material.certificatePem);
      this.#key = forgePrivateKey(material.privateKeyPem);
      this.#signer = nativeRsaSigner(material.privateKeyPem);
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
    this.#chainNotAfterMs = Math.min(
      ...[material.certificatePem, ...this.#intermediates, this.#rootPem].flatMap(splitPemChain).map((pem) => certificateInfo(pem).notAfter.getTime()),
    );
    // An operator's CA may compute its SKI some other way than forge does (RFC 5280 allows
    // several); a leaf's AKI must repeat the signer's actual SKI, or OpenSSL finds no issuer.
    const ski = this.#cert.getExtension('subjectKeyIdentifier') as { subjectKeyIdentifier?: string } | undefined;
    this.#keyIdentifier = ski?.subjectKeyIdentifier ? forge.util.hexToBytes(ski.subjectKeyIdentifier) : this.#cert.generateSubjectKeyIdentifier().getBytes();
  }

  /**
   * A new self-signed root for a trust domain. `commonName` tells roots apart where people read
   * them (a rotation's new root is named after the moment it was made).
   */
  static createRoot(trustDomain: string, validityDays = DEFAULT_ROOT_VALIDITY_DAYS, commonName = `Weft root CA for ${trustDomain}`): CertificateAuthority {
    const keys = generateKeyPair(2048);
    const cert = forge.pki.createCertificate();
    cert.publicKey = forge.pki.publicKeyFromPem(keys.publicKeyPem);
    cert.serialNumber = randomSerial();
    const now = Date.now();
    cert.validity.notBefore = new Date(now - CLOCK_SKEW_MS);
    cert.validity.notAfter = new Date(now + validityDays * 86_400_000);
    const subject = [
      { name: 'organizationName', value: 'Weft' },
      { name: 'commonName', value: commonName },
    ];
    cert.setSubject(subject);
    cert.setIssuer(subject);
    cert.setExtensions([
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
      { name: 'subjectKeyIdentifier' },
      altNamesExtension({ uris: [`spiffe://${trustDomain}`] }),
    ]);
    cert.sign(asForgeKey(nativeRsaSigner(keys.privateKeyPem)), forge.md.sha256.create());
    return new CertificateAuthority({ certificatePem: forge.pki.certificateToPem(cert), privateKeyPem: keys.privateKeyPem });
  }

  static fromPem(material: CaMaterial): CertificateAuthority {
    return new CertificateAuthority(material);
  }

  /** The root certificate workloads trust. */
  get rootPem(): string {
    return this.#rootPem;
  }

  /** The certificate that signs leaves: the root, or an intermediate. */
  get signerPem(): string {
    return this.#signerPem;
  }

  /** Certificates between the signer and the root (empty when the root signs). */
  get intermediatesPem(): readonly string[] {
    return this.#intermediates;
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
    cert.validity.notBefore = new Date(now - CLOCK_SKEW_MS);
    // A leaf never outlives the certificates it chains through.
    cert.validity.notAfter = new Date(Math.min(now + options.ttlMs, this.#chainNotAfterMs));
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
      { name: 'authorityKeyIdentifier', keyIdentifier: this.#keyIdentifier },
      // An empty subject requires the SAN extension to be critical (RFC 5280, 4.2.1.6).
      { ...altNamesExtension(options), critical: !options.commonName },
    ]);
    cert.sign(asForgeKey(this.#signer), forge.md.sha256.create());
    const certificatePem = forge.pki.certificateToPem(cert);
    return {
      certificatePem,
      chainPem: [certificatePem, ...this.#chainAboveLeaf()],
      notAfter: cert.validity.notAfter,
      serialNumber: cert.serialNumber,
    };
  }

  /**
   * A CA certificate and key below this one, for a CA hierarchy (root -> intermediate -> leaves).
   * Operators normally bring their own; this one serves tests and tools.
   */
  issueSubordinate(options: SubordinateOptions): CaMaterial {
    const keys = generateKeyPair(2048);
    const cert = forge.pki.createCertificate();
    cert.publicKey = forge.pki.publicKeyFromPem(keys.publicKeyPem);
    cert.serialNumber = randomSerial();
    const now = Date.now();
    cert.validity.notBefore = new Date(now - CLOCK_SKEW_MS);
    cert.validity.notAfter = new Date(Math.min(now + options.ttlMs, this.#chainNotAfterMs));
    cert.setSubject([{ name: 'organizationName', value: 'Weft' }, { name: 'commonName', value: options.commonName }]);
    cert.setIssuer(this.#cert.subject.attributes);
    cert.setExtensions([
      { name: 'basicConstraints', cA: true, critical: true, ...(options.pathLength === undefined ? {} : { pathLenConstraint: options.pathLength }) },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
      { name: 'subjectKeyIdentifier' },
      { name: 'authorityKeyIdentifier', keyIdentifier: this.#keyIdentifier },
    ]);
    cert.sign(asForgeKey(this.#signer), forge.md.sha256.create());
    return {
      certificatePem: forge.pki.certificateToPem(cert),
      privateKeyPem: keys.privateKeyPem,
      intermediatesPem: this.#chainAboveLeaf(),
      rootPem: this.#rootPem,
    };
  }

  /** The signer and its intermediates, or nothing when the root signs (the root is never sent in a chain). */
  #chainAboveLeaf(): string[] {
    if (this.#rootPem === this.#signerPem) return [];
    return [this.#signerPem, ...this.#intermediates].flatMap(splitPemChain);
  }
}
