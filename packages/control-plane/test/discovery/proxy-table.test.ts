import { expect } from 'chai';
import type { Snapshot, WireNode } from '@weft/api';
import { ProxyTable } from '../../src/discovery/proxy-table';

const node = (ready: boolean): WireNode => ({
  proxyId: 'reviews-1', service: 'reviews', namespace: 'default', address: '10.0.0.1:15006', labels: {}, ready,
  appPort: 0, proxyVersion: 'test', certificateExpiresAtMs: 0, certificateRootFingerprint: '', certificateSerial: '1', features: [],
});
const snapshot = {} as Snapshot;

describe('ProxyTable', () => {
  it('records what its owning stream reports: announced, sent, acked, nacked, disconnected', () => {
    let now = 1_000;
    const table = new ProxyTable(() => now);
    const stream = {};
    table.connect(node(false), 'spiffe://weft.local/ns/default/sa/reviews', stream);
    table.announced(node(true), stream);
    table.sent('reviews-1', stream, 'v2');
    now = 2_000;
    table.acked('reviews-1', stream, { version: 'v1', trustFingerprints: ['ab'], snapshot });
    now = 3_000;
    table.nacked('reviews-1', stream, 'v2', 'bad route');
    const r = table.get('reviews-1');
    expect([r?.node.ready, r?.sentVersion, r?.ackedVersion, r?.ackedAtMs, r?.ackedTrustFingerprints, r?.ackedSnapshot === snapshot]).to.deep.equal([true, 'v2', 'v1', 2_000, ['ab'], true]);
    expect([r?.lastNackVersion, r?.lastNackMessage, r?.lastNackAtMs, r?.connected]).to.deep.equal(['v2', 'bad route', 3_000, true]);
    table.disconnect('reviews-1', stream);
    expect([table.get('reviews-1')?.connected, table.get('reviews-1')?.disconnectedAtMs]).to.deep.equal([false, 3_000]);
  });

  it('ignores a stream that a reconnect of the same proxy replaced', () => {
    const table = new ProxyTable();
    const old = {};
    const current = {};
    table.connect(node(true), 'spiffe://weft.local/ns/default/sa/reviews', old);
    table.connect(node(true), 'spiffe://weft.local/ns/default/sa/reviews', current);
    table.sent('reviews-1', old, 'v9');
    table.acked('reviews-1', old, { version: 'v9', trustFingerprints: [], snapshot });
    table.nacked('reviews-1', old, 'v9', 'late');
    table.disconnect('reviews-1', old);
    const r = table.get('reviews-1');
    expect([r?.sentVersion, r?.ackedVersion, r?.lastNackVersion, r?.connected]).to.deep.equal(['', '', '', true]);
  });
});
