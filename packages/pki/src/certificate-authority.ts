import { createPrivateKey, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { CLOCK_SKEW_MS, name, randomSerial, signCertificate, wholeSeconds } from './certificate-build';
import {
  authorityKeyIdentifier,
  basicConstraints,
  extKeyUsage,
  KEY_USAGE,
  keyIdentifierOf,
  keyUsage,
  subjectAltName,
  subjectKeyIdentifier,
  type SubjectAltNames,
} from './certificate-extensions';
import { certificateInfo, splitPemChain } from './certificate-info';
import { certificateParts } from './certificate-parts';
import { PkiError } from './errors';
import { keyDescription, keyProblem } from './key-policy';
import { subjectKeyFromPem, type SubjectKey } from './subject-key';
import { generateKeyPair, type KeyType } from './keys';
import { signingKey, type SigningKey } from './signing-key';

const DEFAULT_ROOT_VALIDITY_DAYS = 3650;

/** The key a certificate is for: SPKI PEM, or a key `parseCsr` already read and checked. */
export type IssueOptions = IssueParameters & ({ readonly publicKeyPem: string } | { readonly subjectKey: SubjectKey });

export interface IssueParameters extends SubjectAltNames {
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
  /** Its key; ECDSA P-256 unless said otherwise. */
  readonly keyType?: KeyType;
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
 * It signs with whatever key its certificate holds: ECDSA P-256 (new meshes and every new root
 * since), or RSA (a CA stored by an earlier Weft or brought by the operator), and its leaves may
 * hold either kind of key. Certificates are built with the DER writer in `der.ts` and signed in
 * OpenSSL. The private key is held in a #private field and never leaves this object.
 */
export class CertificateAuthority {
  readonly #signer: SigningKey;
  readonly #keyPem: string;
  readonly #signerPem: string;
  /** The signer's subject Name, DER: every certificate it issues names it as issuer, byte for byte. */
  readonly #subjectDer: Buffer;
  readonly #intermediates: readonly string[];
  readonly #rootPem: string;
  /** No leaf outlives any certificate above it, or it would stop verifying before its own expiry. */
  readonly #chainNotAfterMs: number;
  /** What leaves name as their authority key: the signer's own SKI when it has one. */
  readonly #keyIdentifier: Buffer;
  readonly #keyDescription: string;

  private constructor(material: CaMaterial) {
    let cert: X509Certificate;
    let key: KeyObject;
    try {
      cert = new X509Certificate(material.certificatePem);
      key = createPrivateKey(material.privateKeyPem);
    } catch (err) {
      throw new PkiError('WEFT_ERR_BAD_CERTIFICATE', `the CA certificate or key cannot be read (PEM expected): ${(err as Error).message}`);
    }
    const problem = keyProblem(key);
    if (problem) throw new PkiError('WEFT_ERR_UNSUPPORTED_KEY', `the CA cannot sign with its key: ${problem}`);
    if (!cert.checkPrivateKey(key)) {
      throw new PkiError('WEFT_ERR_BAD_KEY', 'the CA private key does not match the CA certificate');
    }
    if (!cert.ca) {
      throw new PkiError('WEFT_ERR_BAD_CERTIFICATE', 'the CA certificate is not a CA (basicConstraints cA is not set)');
    }
    const parts = certificateParts(cert);
    this.#signer = signingKey(key);
    this.#keyDescription = keyDescription(key);
    this.#subjectDer = parts.subjectDer;
    this.#keyPem = material.privateKeyPem;
    this.#signerPem = material.certificatePem;
    this.#intermediates = material.intermediatesPem ?? [];
    this.#rootPem = material.rootPem ?? material.certificatePem;
    this.#chainNotAfterMs = Math.min(
      ...[material.certificatePem, ...this.#intermediates, this.#rootPem].flatMap(splitPemChain).map((pem) => certificateInfo(pem).notAfter.getTime()),
    );
    // An operator's CA may compute its SKI some other way than we do (RFC 5280 allows several);
    // a leaf's AKI must repeat the signer's actual SKI, or OpenSSL finds no issuer.
    this.#keyIdentifier = parts.subjectKeyIdentifier ?? keyIdentifierOf(parts.spkiDer);
  }

  /**
   * A new self-signed root for a trust domain, on an ECDSA P-256 key unless `keyType` says RSA.
   * `commonName` tells roots apart where people read them (a rotation's new root is named after
   * the moment it was made).
   */
  static createRoot(trustDomain: string, validityDays = DEFAULT_ROOT_VALIDITY_DAYS, commonName = `Weft root CA for ${trustDomain}`, keyType: KeyType = 'ec-p256'): CertificateAuthority {
    const keys = generateKeyPair(keyType);
    const spkiDer = spki(keys.publicKeyPem);
    const subjectDer = name({ organization: 'Weft', commonName });
    const id = keyIdentifierOf(spkiDer);
    const now = Date.now();
    const certificatePem = signCertificate(
      {
        serial: randomSerial(),
        issuerDer: subjectDer,
        subjectDer,
        notBefore: new Date(now - CLOCK_SKEW_MS),
        notAfter: new Date(now + validityDays * 86_400_000),
        spkiDer,
        extensions: [
          basicConstraints(true),
          keyUsage([KEY_USAGE.keyCertSign, KEY_USAGE.cRLSign]),
          subjectKeyIdentifier(id),
          subjectAltName({ uris: [`spiffe://${trustDomain}`] }, false),
        ],
      },
      signingKey(createPrivateKey(keys.privateKeyPem)),
    );
    return new CertificateAuthority({ certificatePem, privateKeyPem: keys.privateKeyPem });
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

  /** The signing key's kind, for logs and status: `ECDSA P-256`, `RSA 2048`. */
  get keyDescription(): string {
    return this.#keyDescription;
  }

  /** For persisting the CA in the control plane's store (written 0600). */
  exportMaterial(): CaMaterial {
    return { certificatePem: this.#signerPem, privateKeyPem: this.#keyPem, intermediatesPem: this.#intermediates, rootPem: this.#rootPem };
  }

  issue(options: IssueOptions): IssuedCertificate {
    if (!(options.ttlMs > 0)) throw new PkiError('WEFT_ERR_BAD_CERTIFICATE', 'a certificate TTL must be positive');
    const subject = 'subjectKey' in options ? options.subjectKey : subjectKeyFromPem(options.publicKeyPem);
    const spkiDer = subject.spkiDer;
    const serial = randomSerial();
    const now = Date.now();
    // A leaf never outlives the certificates it chains through.
    const notAfter = wholeSeconds(new Date(Math.min(now + options.ttlMs, this.#chainNotAfterMs)));
    // keyEncipherment is RSA key transport; an ECDSA key only signs (its TLS key exchange is ECDHE).
    const usages = subject.type === 'rsa' ? [KEY_USAGE.digitalSignature, KEY_USAGE.keyEncipherment] : [KEY_USAGE.digitalSignature];
    const certificatePem = signCertificate(
      {
        serial,
        issuerDer: this.#subjectDer,
        subjectDer: name({ commonName: options.commonName }),
        notBefore: new Date(now - CLOCK_SKEW_MS),
        notAfter,
        spkiDer,
        extensions: [
          basicConstraints(false),
          keyUsage(usages),
          extKeyUsage(options.usage !== 'client', options.usage !== 'server'),
          subjectKeyIdentifier(keyIdentifierOf(spkiDer)),
          authorityKeyIdentifier(this.#keyIdentifier),
          // An empty subject requires the SAN extension to be critical (RFC 5280, 4.2.1.6).
          subjectAltName(options, !options.commonName),
        ],
      },
      this.#signer,
    );
    return { certificatePem, chainPem: [certificatePem, ...this.#chainAboveLeaf()], notAfter, serialNumber: serial.toString('hex') };
  }

  /**
   * A CA certificate and key below this one, for a CA hierarchy (root -> intermediate -> leaves).
   * Operators normally bring their own; this one serves tests and tools.
   */
  issueSubordinate(options: SubordinateOptions): CaMaterial {
    const keys = generateKeyPair(options.keyType ?? 'ec-p256');
    const spkiDer = spki(keys.publicKeyPem);
    const now = Date.now();
    const certificatePem = signCertificate(
      {
        serial: randomSerial(),
        issuerDer: this.#subjectDer,
        subjectDer: name({ organization: 'Weft', commonName: options.commonName }),
        notBefore: new Date(now - CLOCK_SKEW_MS),
        notAfter: new Date(Math.min(now + options.ttlMs, this.#chainNotAfterMs)),
        spkiDer,
        extensions: [
          basicConstraints(true, options.pathLength),
          keyUsage([KEY_USAGE.keyCertSign, KEY_USAGE.cRLSign]),
          subjectKeyIdentifier(keyIdentifierOf(spkiDer)),
          authorityKeyIdentifier(this.#keyIdentifier),
        ],
      },
      this.#signer,
    );
    return { certificatePem, privateKeyPem: keys.privateKeyPem, intermediatesPem: this.#chainAboveLeaf(), rootPem: this.#rootPem };
  }

  /** The signer and its intermediates, or nothing when the root signs (the root is never sent in a chain). */
  #chainAboveLeaf(): string[] {
    if (this.#rootPem === this.#signerPem) return [];
    return [this.#signerPem, ...this.#intermediates].flatMap(splitPemChain);
  }
}

const spki = (publicKeyPem: string): Buffer => createPublicKey(publicKeyPem).export({ type: 'spki', format: 'der' });
