/**
 * The little of the DNS wire format (RFC 1035) the responder needs: read a query's first
 * question, answer it with A records or an empty NOERROR/NXDOMAIN. Anything it cannot read is
 * left to the upstream resolver.
 */

export const TYPE_A = 1;
export const TYPE_AAAA = 28;
const CLASS_IN = 1;
/** Mesh answers change with the registry: keep resolvers from holding them long. */
const ANSWER_TTL_S = 5;

export interface DnsQuestion {
  readonly id: number;
  /** Lower-case, without the trailing dot. */
  readonly name: string;
  readonly type: number;
  readonly qclass: number;
  /** Where the question section ends (the answer is appended after it). */
  readonly end: number;
}

/** The first question of a standard query, or undefined when the message is not one. */
export function readQuestion(msg: Buffer): DnsQuestion | undefined {
  if (msg.length < 12) return undefined;
  const flags = msg.readUInt16BE(2);
  const isQuery = (flags & 0x8000) === 0 && ((flags >> 11) & 0xf) === 0;
  if (!isQuery || msg.readUInt16BE(4) < 1) return undefined;
  const labels: string[] = [];
  let at = 12;
  for (;;) {
    if (at >= msg.length) return undefined;
    const len = msg[at] as number;
    if (len === 0) break;
    if (len > 63 || at + 1 + len > msg.length) return undefined; // no compression in a question
    labels.push(msg.toString('latin1', at + 1, at + 1 + len).toLowerCase());
    at += 1 + len;
  }
  at += 1;
  if (at + 4 > msg.length) return undefined;
  return { id: msg.readUInt16BE(0), name: labels.join('.'), type: msg.readUInt16BE(at), qclass: msg.readUInt16BE(at + 2), end: at + 4 };
}

/** An answer to `q` (copied from `query`) with these IPv4 addresses, or an empty one with `rcode`. */
export function answer(query: Buffer, q: DnsQuestion, addresses: readonly string[], rcode: 0 | 3 = 0): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(q.id, 0);
  const rd = query.readUInt16BE(2) & 0x0100;
  header.writeUInt16BE(0x8000 | 0x0400 | rd | 0x0080 | rcode, 2); // QR, AA, RD as asked, RA
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(addresses.length, 6);
  const records = addresses.map((address) => {
    const r = Buffer.alloc(16);
    r.writeUInt16BE(0xc00c, 0); // the name: a pointer to the question's
    r.writeUInt16BE(TYPE_A, 2);
    r.writeUInt16BE(CLASS_IN, 4);
    r.writeUInt32BE(ANSWER_TTL_S, 6);
    r.writeUInt16BE(4, 10);
    address.split('.').forEach((octet, i) => r.writeUInt8(Number(octet), 12 + i));
    return r;
  });
  return Buffer.concat([header, query.subarray(12, q.end), ...records]);
}

export function isInternetClass(q: DnsQuestion): boolean {
  return q.qclass === CLASS_IN;
}
