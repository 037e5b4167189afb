import type { DiscoveryResponse } from '@weft/api';

export type Serialize = (response: DiscoveryResponse) => Buffer;

/**
 * Wraps Discovery.Stream's response serializer so that each snapshot is encoded once, not once
 * per proxy. SnapshotBuilder hands every proxy of one service identity the same frozen snapshot
 * object, and a push writes it to each of them: at 1,000 proxies of 100 services, encoding it per
 * write was 1,000 protobuf encodes of the whole mesh's endpoints per push, enough to stall the
 * event loop past the sidecars' keepalive timeout.
 *
 * Protobuf lets a message be written as the concatenation of its fields, so a response is
 * `version` and `nonce` (encoded per write) followed by field 3, the snapshot, encoded on first
 * use and kept as long as the snapshot object lives (a WeakMap: invalidated snapshots go with
 * their bytes). Only frozen snapshots are cached: a mutable one could change under its bytes.
 */
export function encodeSnapshotsOnce(serialize: Serialize): Serialize {
  const encoded = new WeakMap<object, Buffer>();
  return (response) => {
    const snapshot = response.snapshot;
    if (!snapshot || !Object.isFrozen(snapshot)) return serialize(response);
    let field = encoded.get(snapshot);
    if (!field) {
      // Only `snapshot` is set, so only field 3 is written.
      field = serialize({ snapshot } as DiscoveryResponse);
      encoded.set(snapshot, field);
    }
    return Buffer.concat([serialize({ ...response, snapshot: null }), field]);
  };
}
