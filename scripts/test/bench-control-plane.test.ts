import { expect } from 'chai';
import { loadWeftService, type DiscoveryResponse } from '@weft/api';
import { histogram, peakShare, percentile, sparkline, spread } from '../bench-control-plane/stats';
import { readResponseHead, revisionOf } from '../bench-control-plane/wire';
import { timesFromIpc } from '../bench-control-plane/fleet';

describe('bench:control-plane arithmetic and wire reading', () => {
  const serialize = loadWeftService('Discovery').service['Stream']?.responseSerialize as (r: DiscoveryResponse) => Buffer;

  it("reads version, nonce and the snapshot's size from what the control plane's serializer writes", () => {
    const snapshot = { meshConfigJson: '{}', resources: [{ kind: 'Route', namespace: 'default', name: 'a', json: '{"x":1}' }], services: [], trustBundlePem: ['PEM'], storeRevision: 7, signingRootFingerprint: 'ab' };
    const bytes = serialize({ version: '7-0a1b2c3d', nonce: 'n0nce', snapshot } as DiscoveryResponse);
    const head = readResponseHead(bytes);
    expect(head).to.include({ version: '7-0a1b2c3d', nonce: 'n0nce', observe: false });
    expect(head.snapshotBytes).to.be.greaterThan(20).and.lessThan(bytes.length);
    expect(revisionOf(head.version)).to.equal(7);
  });

  it('tells a response without a snapshot, and an observe request, apart from a push', () => {
    expect(readResponseHead(serialize({ version: '3-x', nonce: 'n', snapshot: null } as DiscoveryResponse)).snapshotBytes).to.equal(0);
    const observe = readResponseHead(serialize({ version: '', nonce: '', snapshot: null, observe: { id: 'q1' } } as unknown as DiscoveryResponse));
    expect(observe.observe).to.equal(true);
    expect(() => readResponseHead(Buffer.from([0x0a, 0x05, 0x61]))).to.throw(/runs past the end/);
    expect(revisionOf('')).to.be.NaN;
  });

  it('takes nearest-rank percentiles and counts the proxies that never answered', () => {
    const values = [...Array.from({ length: 100 }, (_, i) => i + 1), NaN];
    expect(percentile(values, 50)).to.equal(50);
    expect(percentile(values, 99)).to.equal(99);
    expect(spread(values)).to.deep.equal({ p50: 50, p99: 99, max: 100, missing: 1 });
    expect(percentile([], 50)).to.be.NaN;
  });

  it('buckets reconnect times per 100 ms and finds the bunching', () => {
    const buckets = histogram([0, 50, 99, 100, 250, -3, NaN], 100);
    expect(buckets).to.deep.equal([4, 1, 1]);
    expect(peakShare(buckets)).to.equal(4 / 6);
    expect(histogram([], 100)).to.deep.equal([]);
    expect(sparkline([2, 0, 0, 0, 0, 0, 1, 0, 3])).to.equal('2 (5 x .) 1 . 3');
  });

  it('reads a proxy that never answered as missing, not as time 0 (IPC turns NaN into null)', () => {
    const overIpc = JSON.parse(JSON.stringify([[5, NaN], [7]])) as unknown[];
    const times = timesFromIpc(overIpc);
    expect(times).to.have.length(3);
    expect(spread(times.map((t) => t - 1))).to.deep.equal({ p50: 4, p99: 6, max: 6, missing: 1 });
  });
});
