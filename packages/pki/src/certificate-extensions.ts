import { createHash } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import { bitStringBytes, children, readNode } from './der-read';
import { octetString, oid, sequence, smallInteger, tlv, TRUE } from './der';

/**
 * The X.509 v3 extensions Weft writes (RFC 5280 4.2), each as one DER Extension. Only what the
 * mesh's certificates carry: CA and leaf constraints, key usages, key identifiers and SANs.
 */

const OID = Object.freeze({
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
});
export const EXTENSION_OID = OID;

/** Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }. */
function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return critical ? sequence(oid(id), TRUE, octetString(value)) : sequence(oid(id), octetString(value));
}

/** Critical, as RFC 5280 asks of CAs; a leaf's is empty (cA FALSE is the DEFAULT, never written). */
export function basicConstraints(ca: boolean, pathLength?: number): Buffer {
  const body = ca ? [TRUE, ...(pathLength === undefined ? [] : [smallInteger(pathLength)])] : [];
  return extension(OID.basicConstraints, true, sequence(...body));
}

/** KeyUsage bits, numbered as RFC 5280 numbers them (bit 0 is the first bit). */
export const KEY_USAGE = Object.freeze({ digitalSignature: 0, keyEncipherment: 2, keyCertSign: 5, cRLSign: 6 });

/** Critical. DER drops trailing zero bits and counts them in the unused-bits octet. */
export function keyUsage(bits: readonly number[]): Buffer {
  let value = 0;
  for (const bit of bits) value |= 0x80 >> bit;
  let unused = 0;
  while (unused < 7 && ((value >> unused) & 1) === 0) unused++;
  const encoded = tlv(0x03, Buffer.from([unused, value]));
  return extension(OID.keyUsage, true, encoded);
}

export function extKeyUsage(serverAuth: boolean, clientAuth: boolean): Buffer {
  return extension(OID.extKeyUsage, false, sequence(...(serverAuth ? [oid(OID.serverAuth)] : []), ...(clientAuth ? [oid(OID.clientAuth)] : [])));
}

/** RFC 5280 4.2.1.2 method 1: SHA-1 of the subjectPublicKey BIT STRING's bytes. */
export function keyIdentifierOf(spkiDer: Buffer): Buffer {
  const [, subjectPublicKey] = children(readNode(spkiDer));
  if (!subjectPublicKey) throw new Error('the public key has no subjectPublicKey');
  return createHash('sha1').update(bitStringBytes(subjectPublicKey)).digest();
}

export const subjectKeyIdentifier = (id: Buffer): Buffer => extension(OID.subjectKeyIdentifier, false, octetString(id));

/** AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] IMPLICIT OCTET STRING }. */
export const authorityKeyIdentifier = (id: Buffer): Buffer => extension(OID.authorityKeyIdentifier, false, sequence(tlv(0x80, id)));

export interface SubjectAltNames {
  readonly uris?: readonly string[];
  readonly dnsNames?: readonly string[];
  readonly ipAddresses?: readonly string[];
}

/** GeneralName tags: [6] URI, [2] DNS name, [7] IP address (4 or 16 bytes). */
export function subjectAltName(sans: SubjectAltNames, critical: boolean): Buffer {
  const names = [
    ...(sans.uris ?? []).map((uri) => tlv(0x86, Buffer.from(uri, 'ascii'))),
    ...(sans.dnsNames ?? []).map((dns) => tlv(0x82, Buffer.from(dns, 'ascii'))),
    ...(sans.ipAddresses ?? []).map((ip) => tlv(0x87, ipBytes(ip))),
  ];
  return extension(OID.subjectAltName, critical, sequence(...names));
}

function ipBytes(ip: string): Buffer {
  if (isIPv4(ip)) return Buffer.from(ip.split('.').map(Number));
  if (!isIPv6(ip)) throw new Error(`${ip} is not an IP address`);
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two hextets first.
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(ip);
  const text = v4 ? ip.slice(0, v4.index) + [((+v4[1]! << 8) | +v4[2]!).toString(16), ((+v4[3]! << 8) | +v4[4]!).toString(16)].join(':') : ip;
  const [head = '', tail] = text.split('::');
  const part = (s: string | undefined): number[] => (s ? s.split(':').map((h) => parseInt(h, 16)) : []);
  const left = part(head);
  const right = part(tail);
  const hextets = tail === undefined ? left : [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  const out = Buffer.alloc(16);
  hextets.forEach((h, i) => out.writeUInt16BE(h, i * 2));
  return out;
}
