import type { DiscoveryResponse, Snapshot, WireServiceEndpoints } from '@weft/api';

export type Serialize = (response: DiscoveryResponse) => Buffer;

/** DiscoveryResponse.snapshot and Snapshot.services are both field 3, length-delimited. */
const LEN_FIELD_3 = (3 << 3) | 2;

/**
 * Wraps Discovery.Stream's response serializer so that each snapshot is encoded once, not once
 * per proxy, and each service's entry once for every snapshot that carries it. SnapshotBuilder
 * hands every proxy of one service identity the same frozen snapshot object, and a push writes it
 * to each of them: at 1,000 proxies of 100 services, encoding it per write was 1,000 protobuf
 * encodes of the whole mesh's endpoints per push, enough to stall the event loop past the
 * sidecars' keepalive timeout. And while a fleet joins, every push window makes a new version of
 * every identity's snapshot (each join adds an endpoint), and each stream that opens is sent its
 * identity's newest one whole: encoding those whole was a third of the control plane's time while
 * 3,000 streams opened. A service entry whose endpoints did not change is the same frozen object
 * across versions (SnapshotBuilder keeps it), so its bytes are kept with it.
 *
 * Protobuf lets a message be written as the concatenation of its fields, so a response is
 * `version` and `nonce` (encoded per write) followed by field 3, the snapshot; and the snapshot
 * is fields 1-2, the service entries (field 3, one by one), then fields 4-9: the same bytes, in
 * the same order, as encoding it whole. Bytes are kept as long as their object lives (WeakMaps);
 * only frozen objects are cached: a mutable one could change under its bytes.
 */
export function encodeSnapshotsOnce(serialize: Serialize): Serialize {
  const snapshots = new WeakMap<object, Buffer>();
  const entries = new WeakMap<object, Buffer>();

  /** The bytes of `part` inside a DiscoveryResponse's field 3: a Snapshot's fields, without the wrapper. */
  const fieldsOf = (part: Partial<Snapshot>): Buffer => unwrapField3(serialize({ snapshot: part } as DiscoveryResponse));

  const entryBytes = (entry: WireServiceEndpoints): Buffer => {
    let bytes = entries.get(entry);
    if (!bytes) {
      bytes = fieldsOf({ services: [entry] });
      if (Object.isFrozen(entry)) entries.set(entry, bytes);
    }
    return bytes;
  };

  const snapshotField = (snapshot: Snapshot): Buffer => {
    const { meshConfigJson, resources, services, ...rest } = snapshot;
    const inner = Buffer.concat([fieldsOf({ meshConfigJson, resources }), ...services.map(entryBytes), fieldsOf(rest)]);
    return Buffer.concat([lengthDelimitedHead(LEN_FIELD_3, inner.length), inner]);
  };

  return (response) => {
    const snapshot = response.snapshot;
    if (!snapshot || !Object.isFrozen(snapshot)) return serialize(response);
    let field = snapshots.get(snapshot);
    if (!field) {
      field = snapshotField(snapshot);
      snapshots.set(snapshot, field);
    }
    return Buffer.concat([serialize({ ...response, snapshot: null }), field]);
  };
}

/** A message that holds only field 3 (length-delimited): its content. Empty when nothing was written. */
function unwrapField3(bytes: Buffer): Buffer {
  if (bytes.length === 0) return bytes;
  if (bytes[0] !== LEN_FIELD_3) throw new Error(`expected only field 3 in ${bytes.length} bytes, found tag ${bytes[0]}`);
  let length = 0;
  let shift = 0;
  let at = 1;
  for (;;) {
    const byte = bytes[at++];
    if (byte === undefined) throw new Error('a truncated length');
    length += (byte & 0x7f) * 2 ** shift;
    if (byte < 0x80) break;
    shift += 7;
  }
  if (at + length !== bytes.length) throw new Error(`field 3 of ${length} bytes in a ${bytes.length}-byte message with ${at} bytes of head`);
  return bytes.subarray(at);
}

/** A tag byte and the varint length of what follows. */
function lengthDelimitedHead(tag: number, length: number): Buffer {
  const head = [tag];
  let n = length;
  while (n >= 0x80) {
    head.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  head.push(n);
  return Buffer.from(head);
}
