import { expect } from 'chai';
import { applySnapshotDelta, snapshotDelta, type Snapshot, type WireResource, type WireServiceEndpoints } from '../src/index';

const resource = (kind: string, name: string, json = `{"v":"${name}"}`): WireResource => ({ kind, namespace: 'default', name, json });
const service = (name: string, addresses: string[]): WireServiceEndpoints => ({
  service: name,
  namespace: 'default',
  spiffeId: `spiffe://weft.local/ns/default/sa/${name}`,
  endpoints: addresses.map((address) => ({ address, labels: {}, ready: true, proxyId: address })),
});
const snapshot = (resources: WireResource[], services: WireServiceEndpoints[], storeRevision = 1): Snapshot => ({
  meshConfigJson: '{}',
  resources,
  services,
  trustBundlePem: ['root'],
  storeRevision,
  signingRootFingerprint: '',
});

describe('snapshot deltas (Snapshot.base_version)', () => {
  const orders = service('orders', ['10.0.0.1:15006']);
  const ratings = service('ratings', ['10.0.0.2:15006']);
  const base = snapshot([resource('Route', 'a'), resource('Route', 'b'), resource('ServicePolicy', 'a')], [orders, ratings]);

  it('carries only what changed, names what is gone, and rebuilds the whole snapshot in key order', () => {
    const more = service('payments', ['10.0.0.3:15006']);
    const next = snapshot([resource('AuthorizationPolicy', 'z'), resource('Route', 'a', '{"v":"a2"}'), resource('ServicePolicy', 'a')], [more, ratings], 2);
    const delta = snapshotDelta(base, next, '1-aaaaaaaa');
    expect(delta.baseVersion).to.equal('1-aaaaaaaa');
    expect(delta.resources.map((r) => `${r.kind}/${r.name}`)).to.deep.equal(['AuthorizationPolicy/z', 'Route/a']);
    expect(delta.removedResources).to.deep.equal(['Route/default/b']);
    expect(delta.services.map((s) => s.service), 'ratings is the same object: not sent').to.deep.equal(['payments']);
    expect(delta.removedServices).to.deep.equal(['default/orders']);
    const whole = applySnapshotDelta(base, delta);
    expect(whole).to.deep.equal({ ...next, services: [ratings, more].sort((a, b) => a.service.localeCompare(b.service)) });
  });

  it('is empty when nothing but the revision changed, and applies to the same content', () => {
    const next = { ...base, storeRevision: 5 };
    const delta = snapshotDelta(base, next, '1-aaaaaaaa');
    expect([delta.resources, delta.services, delta.removedResources, delta.removedServices]).to.deep.equal([[], [], [], []]);
    expect(applySnapshotDelta(base, delta)).to.deep.equal(next);
  });
});
