import { randomBytes } from 'node:crypto';
import { contextConstructed, oid, sequence, set, smallInteger, time, unsignedInteger, utf8String, bitString } from './der';
import type { SigningKey } from './signing-key';

/** Leaves start a minute in the past so that a peer whose clock runs slightly behind accepts them. */
export const CLOCK_SKEW_MS = 60_000;

/** What goes into one certificate; the issuer's Name is copied from its certificate's DER. */
export interface CertificateFields {
  readonly serial: Buffer;
  readonly issuerDer: Buffer;
  readonly subjectDer: Buffer;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly spkiDer: Buffer;
  /** DER Extension values, in the order they are written. */
  readonly extensions: readonly Buffer[];
}

/** A positive 128-bit serial number (RFC 5280 allows up to 20 octets; the top bit kept clear). */
export function randomSerial(): Buffer {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] as number) & 0x7f) | 0x01; // never a leading zero octet, so always 16 octets
  return bytes;
}

/** X.509 times have one-second resolution: what a certificate says, as a Date. */
export const wholeSeconds = (date: Date): Date => new Date(Math.floor(date.getTime() / 1000) * 1000);

/** A Name of organization and common name, as UTF8Strings (RFC 5280 4.1.2.4); empty for neither. */
export function name(attributes: { organization?: string; commonName?: string }): Buffer {
  const rdn = (id: string, value: string): Buffer => set(sequence(oid(id), utf8String(value)));
  return sequence(
    ...(attributes.organization === undefined ? [] : [rdn('2.5.4.10', attributes.organization)]),
    ...(attributes.commonName === undefined ? [] : [rdn('2.5.4.3', attributes.commonName)]),
  );
}

/**
 * Builds the TBSCertificate (v3) and signs it in OpenSSL: the whole certificate in one pass of
 * small buffer concatenations, which is what lets one core issue thousands of ECDSA leaves a
 * second (forge built an RSA certificate in about 2 ms of JavaScript and cannot build ECDSA ones).
 */
export function signCertificate(fields: CertificateFields, signer: SigningKey): string {
  const tbs = sequence(
    contextConstructed(0, smallInteger(2)),
    unsignedInteger(fields.serial),
    signer.algorithm,
    fields.issuerDer,
    sequence(time(fields.notBefore), time(fields.notAfter)),
    fields.subjectDer,
    fields.spkiDer,
    contextConstructed(3, sequence(...fields.extensions)),
  );
  const der = sequence(tbs, signer.algorithm, bitString(signer.sign(tbs)));
  return `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/.{1,64}/g, '$&\n')}-----END CERTIFICATE-----\n`;
}
