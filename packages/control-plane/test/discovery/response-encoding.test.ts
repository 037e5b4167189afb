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

  /** The real serializer, counting how often it encodes service entries (the bulk of a snapshot). */
  function counting(): { serialize: Serialize; snapshotEncodes: () => number } {
    let n = 0;
    return {
      serialize: (r) => {
        if (r.snapshot && r.snapshot.services?.length) n++;
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

  it("encodes a service's entry once for every version that carries it unchanged, byte for byte as a whole encode", () => {
    const spy = counting();
    const encode = encodeSnapshotsOnce(spy.serialize);
    const reviews = deepFreeze(snapshot(40)).services[0] as Snapshot['services'][number];
    const ratings = (n: number): Snapshot['services'][number] => ({ ...reviews, service: 'ratings', spiffeId: 'spiffe://weft.local/ns/default/sa/ratings', endpoints: reviews.endpoints.slice(0, n) });
    // Each version: the same reviews entry, a new ratings entry (as when ratings gains an endpoint).
    for (const [i, n] of [1, 2, 3].entries()) {
      const version = deepFreeze({ ...snapshot(0), services: [ratings(n), reviews], storeRevision: 10 + i });
      const response: DiscoveryResponse = { version: `${10 + i}-x`, nonce: `n${i}`, snapshot: version };
      expect(encode(response).equals(serialize(response)), `version ${i}`).to.equal(true);
    }
    // reviews once, ratings once per version.
    expect(spy.snapshotEncodes()).to.equal(4);
    // A delta (fields 7-9 set, no services) comes out whole and equal too.
    const delta = deepFreeze({ ...snapshot(0), services: [], baseVersion: '9-y', removedResources: ['Route/default/old'], removedServices: ['default/gone'] });
    const response: DiscoveryResponse = { version: '13-z', nonce: 'n9', snapshot: delta };
    expect(encode(response).equals(serialize(response))).to.equal(true);
  });

  it('writes responses without a snapshot (observe requests) as they are', () => {
    const encode = encodeSnapshotsOnce(serialize);
    const observe = { version: '', nonce: '', snapshot: null, observe: { id: 'q1', edges: true } } as unknown as DiscoveryResponse;
    expect(encode(observe).equals(serialize(observe))).to.equal(true);
  });
});
