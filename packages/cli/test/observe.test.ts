import { expect } from 'chai';
import { latencyBucketOf, LATENCY_BUCKET_COUNT, trimLatencyBuckets, type Edge, type StatSummary, type TrafficCounts } from '@weft/api';
import { foldEdges } from '../src/commands/edges';
import { tapLine } from '../src/commands/tap';
import { formatLatency, statRows } from '../src/observe/stat-rows';

function traffic(direction: string, source: string, destination: string, samples: readonly number[], successes: number, extra: Partial<TrafficCounts> = {}): TrafficCounts {
  const buckets = new Array<number>(LATENCY_BUCKET_COUNT).fill(0);
  for (const ms of samples) buckets[latencyBucketOf(ms)] = (buckets[latencyBucketOf(ms)] as number) + 1;
  return { direction, source, destination, route: 'default', proxyId: '', requests: samples.length, successes, latencyBuckets: trimLatencyBuckets(buckets), latencySumMs: 0, windowMs: 20_000, ...extra };
}

describe('weftctl stat, edges and tap views', () => {
  const summary: StatSummary = {
    windowMs: 20_000,
    traffic: [
      traffic('inbound', 'frontend.default', 'catalog.default', [...Array<number>(30).fill(2), ...Array<number>(10).fill(300)], 30),
      traffic('inbound', 'admin.default', 'catalog.default', [5, 5], 2),
      traffic('outbound', 'frontend.default', 'catalog.default', Array<number>(44).fill(3), 40),
    ],
    tcp: [{ direction: 'inbound', source: 'frontend.default', destination: 'catalog.default', proxyId: '', open: 2, opened: 3, closed: 1, receivedBytes: 0, sentBytes: 0 }],
  };

  it('services: the inbound side, all callers together, rate over the window and percentiles of the merged histogram', () => {
    const [row, ...rest] = statRows(summary, 'services', {});
    expect(rest).to.deep.equal([]);
    expect(row).to.deep.include({ service: 'catalog.default', requests: 42, successes: 32, tcpOpen: 2, windowMs: 20_000 });
    expect(row?.successRate).to.be.closeTo(32 / 42, 1e-12);
    expect(row?.rps).to.be.closeTo(42 / 20, 1e-12);
    expect(row?.latencyMsP50).to.be.within(2 / 1.19, 2 * 1.19);
    expect(row?.latencyMsP99).to.be.within(300 / 1.19, 300 * 1.19);
  });

  it('--from: the callers\' side (outbound), which also counts requests that never arrived', () => {
    const rows = statRows(summary, 'services', { from: 'frontend.default' });
    expect(rows.map((r) => [r.service, r.requests, r.successes])).to.deep.equal([['catalog.default', 44, 40]]);
  });

  it('edges: one row per pair, identities from either side, mTLS only if every side says so', () => {
    const edge = (direction: string, mtls: boolean, requests: number): Edge => ({
      direction, source: 'frontend.default', destination: 'catalog.default', mtls, requests, connections: 0, lastSeenMs: 10, proxyId: 'p',
      sourceIdentity: direction === 'inbound' ? 'spiffe://x/ns/default/sa/frontend' : 'spiffe://x/ns/default/sa/frontend',
      destinationIdentity: direction === 'inbound' ? 'spiffe://x/ns/default/sa/catalog' : '',
    });
    expect(foldEdges([edge('outbound', true, 44), edge('inbound', true, 40)])).to.deep.equal([
      { source: 'frontend.default', destination: 'catalog.default', sourceIdentity: 'spiffe://x/ns/default/sa/frontend', destinationIdentity: 'spiffe://x/ns/default/sa/catalog', mtls: true, requests: 40, connections: 0, lastSeenMs: 10, seenBy: 'inbound,outbound' },
    ]);
    expect(foldEdges([edge('outbound', true, 1), edge('inbound', false, 1)])[0]?.mtls).to.equal(false);
  });

  it('tap: one line per request, fields in a fixed order', () => {
    const line = tapLine({
      atMs: Date.UTC(2026, 0, 1, 14, 2, 11, 204), proxyId: '5c1e2a9b-0000', direction: 'inbound', source: 'frontend.default', destination: 'catalog.default', route: '',
      method: 'GET', authority: 'catalog', path: '/items', status: 200, grpcStatus: '', latencyMs: 12.4, peerIdentity: 'spiffe://x/ns/default/sa/frontend', mtls: true, traceId: 'ab', errorCode: '',
    });
    expect(line).to.equal('14:02:11.204 inbound frontend.default -> catalog.default GET catalog/items 200 12ms mTLS peer=spiffe://x/ns/default/sa/frontend trace=ab proxy=5c1e2a9b\n');
    expect(formatLatency(0.42)).to.equal('0.4ms');
    expect(formatLatency(1500)).to.equal('1.50s');
  });
});
