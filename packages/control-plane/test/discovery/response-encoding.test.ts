import { expect } from 'chai';
import { loadWeftService, type DiscoveryResponse, type Snapshot } from '@weft/api';
import { encodeSnapshotsOnce, type Serialize } from '../../src/discovery/response-encoding';
import { deepFreeze } from '../../src/store/canonical-json';

describe('encodeSnapshotsOnce (Discovery.Stream responses)', () => {
  const stream = loadWeftService('Discovery').service['Stream'];
  const serialize = stream?.responseSerialize as Serialize;
  const deserialize = stream?.responseDeserialize as (bytes: Buffer) => DiscoveryResponse;

  function snapshot(endpoints: number): Snapshot {
    return {
      meshConfigJson: '{"mtls":"STRICT"}',
      resources: [{ kind: 'Route', namespace: 'default', name: 'reviews', json: '{"spec":{"service":"reviews"}}' }],
      services: [
        {
          service: 'reviews',
          namespace: 'default',
          spiffeId: 'spiffe://weft.local/ns/default/sa/reviews',
          endpoints: Array.from({ length: endpoints }, (_, i) => ({ address: `10.0.0.${i}:15006`, labels: { version: 'v1' }, ready: true, proxyId: `p${i}`, verification: 'verified', verificationDetail: '', appPort: 8080 })),
        },
      ],
      trustBundlePem: ['-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'],
      storeRevision: 4,
      signingRootFingerprint: 'ab'.repeat(32),
    };
  }

  /** The real serializer, counting how often it encodes a snapshot. */
  function counting(): { serialize: Serialize; snapshotEncodes: () => number } {
    let n = 0;
    return {
      serialize: (r) => {
        if (r.snapshot) n++;
        return serialize(r);
      },
      snapshotEncodes: () => n,
    };
  }

  it('encodes a shared frozen snapshot once for every proxy it is written to, byte for byte as before', () => {
    const shared = deepFreeze(snapshot(50));
    const spy = counting();
    const encode = encodeSnapshotsOnce(spy.serialize);
    for (const nonce of ['n1', 'n2', 'n3']) {
      const response: DiscoveryResponse = { version: '4-0a1b2c3d', nonce, snapshot: shared };
      const bytes = encode(response);
      expect(bytes.equals(serialize(response))).to.equal(true);
      expect(deserialize(bytes)).to.deep.include({ version: '4-0a1b2c3d', nonce });
      expect(deserialize(bytes).snapshot?.services[0]?.endpoints).to.have.length(50);
    }
    expect(spy.snapshotEncodes()).to.equal(1);
  });

  it('encodes a new snapshot (a new version) afresh, and never caches a mutable one', () => {
    const spy = counting();
    const encode = encodeSnapshotsOnce(spy.serialize);
    encode({ version: '4-a', nonce: 'n1', snapshot: deepFreeze(snapshot(1)) });
    encode({ version: '5-b', nonce: 'n2', snapshot: deepFreeze(snapshot(2)) });
    expect(spy.snapshotEncodes()).to.equal(2);
    const mutable = snapshot(1);
    encode({ version: '6-c', nonce: 'n3', snapshot: mutable });
    mutable.storeRevision = 7;
    const bytes = encode({ version: '6-c', nonce: 'n4', snapshot: mutable });
    expect(deserialize(bytes).snapshot?.storeRevision).to.equal(7);
    expect(spy.snapshotEncodes()).to.equal(4);
  });

  it('writes responses without a snapshot (observe requests) as they are', () => {
    const encode = encodeSnapshotsOnce(serialize);
    const observe = { version: '', nonce: '', snapshot: null, observe: { id: 'q1', edges: true } } as unknown as DiscoveryResponse;
    expect(encode(observe).equals(serialize(observe))).to.equal(true);
  });
});
