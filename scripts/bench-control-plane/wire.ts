/**
 * What a simulated sidecar reads of a DiscoveryResponse (proto/weft/v1alpha1/discovery.proto):
 * version, nonce, and whether a snapshot or an observe request is present. The snapshot's bytes
 * are skipped, not decoded: a thousand full decodes per push would load the two cores this bench
 * shares with the control plane, and the control plane's cost does not depend on them.
 */
export interface ResponseHead {
  readonly version: string;
  readonly nonce: string;
  /** Bytes of the encoded snapshot (0: none). */
  readonly snapshotBytes: number;
  readonly observe: boolean;
}

const WIRE_VARINT = 0;
const WIRE_I64 = 1;
const WIRE_LEN = 2;
const WIRE_I32 = 5;

function varint(buf: Buffer, at: number): [value: number, next: number] {
  let value = 0;
  let shift = 0;
  for (let i = at; i < buf.length; i++) {
    const byte = buf[i] as number;
    value += (byte & 0x7f) * 2 ** shift;
    if (byte < 0x80) return [value, i + 1];
    shift += 7;
    if (shift > 63) break;
  }
  throw new Error(`a truncated varint at byte ${at} of a ${buf.length}-byte DiscoveryResponse`);
}

/** Reads fields 1-4 of a DiscoveryResponse; unknown fields are skipped as protobuf requires. */
export function readResponseHead(buf: Buffer): ResponseHead {
  let version = '';
  let nonce = '';
  let snapshotBytes = 0;
  let observe = false;
  let at = 0;
  while (at < buf.length) {
    const [key, afterKey] = varint(buf, at);
    const field = Math.floor(key / 8);
    const wire = key & 7;
    at = afterKey;
    if (wire === WIRE_LEN) {
      const [length, start] = varint(buf, at);
      const end = start + length;
      if (end > buf.length) throw new Error(`field ${field} runs past the end of a ${buf.length}-byte DiscoveryResponse`);
      if (field === 1) version = buf.toString('utf8', start, end);
      else if (field === 2) nonce = buf.toString('utf8', start, end);
      else if (field === 3) snapshotBytes = length;
      else if (field === 4) observe = true;
      at = end;
    } else if (wire === WIRE_VARINT) at = varint(buf, at)[1];
    else if (wire === WIRE_I64) at += 8;
    else if (wire === WIRE_I32) at += 4;
    else throw new Error(`wire type ${wire} (field ${field}) is not expected in a DiscoveryResponse`);
  }
  return { version, nonce, snapshotBytes, observe };
}

/** The store revision a snapshot version (`<revision>-<hash>`) was built at; NaN if it names none. */
export function revisionOf(version: string): number {
  const dash = version.indexOf('-');
  return dash > 0 ? Number(version.slice(0, dash)) : NaN;
}
