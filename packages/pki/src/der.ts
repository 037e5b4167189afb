/**
 * The few DER (X.690) encodings a PKCS#10 request and an X.509 certificate need, written by hand:
 * a workload builds its CSR with node:crypto alone (node-forge cost a sidecar 42 modules and about
 * 10 MB of RSS), and the CA builds ECDSA certificates, which node-forge cannot.
 */

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v >>>= 8) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** One tag-length-value. */
export function tlv(tag: number, content: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), length(content.length), content]);
}

export const sequence = (...items: Buffer[]): Buffer => tlv(0x30, Buffer.concat(items));
export const set = (...items: Buffer[]): Buffer => tlv(0x31, Buffer.concat(items));
export const octetString = (content: Buffer): Buffer => tlv(0x04, content);
export const NULL = Buffer.from([0x05, 0x00]);

/** A small non-negative INTEGER (version numbers). */
export function smallInteger(n: number): Buffer {
  return tlv(0x02, Buffer.from([n & 0x7f]));
}

/** A non-negative INTEGER from its big-endian bytes (a serial number), in its minimal form. */
export function unsignedInteger(bytes: Buffer): Buffer {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  const body = bytes.subarray(start);
  return tlv(0x02, ((body[0] ?? 0) & 0x80) !== 0 ? Buffer.concat([Buffer.from([0]), body]) : Buffer.from(body.length > 0 ? body : [0]));
}

export const TRUE = Buffer.from([0x01, 0x01, 0xff]);
export const utf8String = (text: string): Buffer => tlv(0x0c, Buffer.from(text, 'utf8'));

/** UTCTime for 1950-2049, GeneralizedTime after (RFC 5280 4.1.2.5), to the second, in UTC. */
export function time(date: Date): Buffer {
  const iso = date.toISOString(); // 2026-12-04T01:09:48.123Z
  const digits = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
  const year = date.getUTCFullYear();
  return year < 2050 ? tlv(0x17, Buffer.from(digits.slice(2), 'ascii')) : tlv(0x18, Buffer.from(digits, 'ascii'));
}

/** A constructed context-specific tag `[n]` around its content (EXPLICIT, or IMPLICIT of a SEQUENCE). */
export const contextConstructed = (n: number, ...items: Buffer[]): Buffer => tlv(0xa0 | n, Buffer.concat(items));

/** A BIT STRING holding whole bytes (a signature). */
export function bitString(content: Buffer): Buffer {
  return tlv(0x03, Buffer.concat([Buffer.from([0]), content]));
}

/** Encoded OBJECT IDENTIFIERs: a handful of constants, written for every certificate. */
const oids = new Map<string, Buffer>();

/** An OBJECT IDENTIFIER from its dotted form (`2.5.29.17`). */
export function oid(dotted: string): Buffer {
  let encoded = oids.get(dotted);
  if (!encoded) oids.set(dotted, (encoded = encodeOid(dotted)));
  return encoded;
}

function encodeOid(dotted: string): Buffer {
  const [first = 0, second = 0, ...rest] = dotted.split('.').map(Number);
  const bytes = [first * 40 + second];
  for (const arc of rest) {
    const groups: number[] = [];
    for (let v = arc; ; v = Math.floor(v / 128)) {
      groups.unshift((v % 128) | (groups.length > 0 ? 0x80 : 0));
      if (v < 128) break;
    }
    bytes.push(...groups);
  }
  return tlv(0x06, Buffer.from(bytes));
}
