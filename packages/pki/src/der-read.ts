/**
 * Reading DER (X.690): just enough to walk a PKCS#10 request and an X.509 certificate (tag,
 * length, value; children of a constructed value). Any malformation throws a DerError, which the
 * callers turn into the PkiError that names what was being read.
 */

export class DerError extends Error {}

/** One value inside `buffer`: its tag and where its header, content and end are. */
export interface DerNode {
  readonly buffer: Buffer;
  readonly tag: number;
  readonly start: number;
  readonly contentStart: number;
  readonly end: number;
}

export function readNode(buffer: Buffer, offset = 0, limit = buffer.length): DerNode {
  if (offset + 2 > limit) throw new DerError('truncated value');
  const tag = buffer[offset] as number;
  if ((tag & 0x1f) === 0x1f) throw new DerError('multi-byte tags are not used here');
  let length = buffer[offset + 1] as number;
  let contentStart = offset + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > 4 || contentStart + count > limit) throw new DerError('bad length');
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + (buffer[contentStart + i] as number);
    contentStart += count;
  }
  const end = contentStart + length;
  if (end > limit) throw new DerError('value runs past its container');
  return { buffer, tag, start: offset, contentStart, end };
}

/** The values inside a constructed value, in order. */
export function children(node: DerNode): DerNode[] {
  const out: DerNode[] = [];
  for (let at = node.contentStart; at < node.end; ) {
    const child = readNode(node.buffer, at, node.end);
    out.push(child);
    at = child.end;
  }
  return out;
}

/** The value's content bytes (no tag or length). */
export const content = (node: DerNode): Buffer => node.buffer.subarray(node.contentStart, node.end);

/** The whole encoding of the value, header included. */
export const encoding = (node: DerNode): Buffer => node.buffer.subarray(node.start, node.end);

/** The value expected at `index` among `nodes`, with tag `tag`. */
export function expectNode(nodes: readonly DerNode[], index: number, tag: number, what: string): DerNode {
  const node = nodes[index];
  if (!node || node.tag !== tag) throw new DerError(`${what} is missing`);
  return node;
}

/** An OBJECT IDENTIFIER's dotted form. */
export function readOid(node: DerNode): string {
  if (node.tag !== 0x06) throw new DerError('an object identifier was expected');
  const bytes = content(node);
  if (bytes.length === 0) throw new DerError('empty object identifier');
  const first = bytes[0] as number;
  const arcs = [Math.min(2, Math.floor(first / 40)), first - 40 * Math.min(2, Math.floor(first / 40))];
  let value = 0;
  for (let i = 1; i < bytes.length; i++) {
    const b = bytes[i] as number;
    value = value * 128 + (b & 0x7f);
    if (!(b & 0x80)) {
      arcs.push(value);
      value = 0;
    }
  }
  return arcs.join('.');
}

/** A BIT STRING's bytes after its unused-bits octet. */
export function bitStringBytes(node: DerNode): Buffer {
  if (node.tag !== 0x03 || node.end === node.contentStart) throw new DerError('a bit string was expected');
  return node.buffer.subarray(node.contentStart + 1, node.end);
}

/** DER from PEM text of one `label` block. */
export function pemBody(pem: string, label: string): Buffer {
  const match = new RegExp(`-----BEGIN ${label}-----([\\s\\S]+?)-----END ${label}-----`).exec(pem);
  if (!match) throw new DerError(`no ${label} PEM block`);
  return Buffer.from((match[1] as string).replace(/\s+/g, ''), 'base64');
}
