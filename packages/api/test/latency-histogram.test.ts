import { expect } from 'chai';
import { LATENCY_BUCKET_BOUNDS_MS, LATENCY_BUCKET_COUNT, latencyBucketOf, latencyQuantile, mergeLatencyBuckets, trimLatencyBuckets } from '../src/latency-histogram';

/** A histogram of the given samples, built the way sidecars build theirs. */
function histogramOf(samples: readonly number[]): number[] {
  const buckets = new Array<number>(LATENCY_BUCKET_COUNT).fill(0);
  for (const ms of samples) buckets[latencyBucketOf(ms)] = (buckets[latencyBucketOf(ms)] as number) + 1;
  return trimLatencyBuckets(buckets);
}

describe('latency histogram', () => {
  it('has bounds from 0.1 ms to about a minute, each about 19% above the last', () => {
    expect(LATENCY_BUCKET_BOUNDS_MS[0]).to.equal(0.1);
    expect(LATENCY_BUCKET_BOUNDS_MS.at(-1)).to.be.within(60_000, 65_000);
    for (let i = 1; i < LATENCY_BUCKET_BOUNDS_MS.length; i++) {
      expect((LATENCY_BUCKET_BOUNDS_MS[i] as number) / (LATENCY_BUCKET_BOUNDS_MS[i - 1] as number)).to.be.closeTo(2 ** 0.25, 0.002);
    }
  });

  it('puts a value in the first bucket whose bound is at least the value (bounds inclusive), overflow last', () => {
    expect(latencyBucketOf(0)).to.equal(0);
    expect(latencyBucketOf(0.1)).to.equal(0);
    expect(latencyBucketOf(0.1001)).to.equal(1);
    LATENCY_BUCKET_BOUNDS_MS.forEach((bound, i) => {
      expect(latencyBucketOf(bound), `at ${bound}`).to.equal(i);
      expect(latencyBucketOf(bound * 1.0001), `just above ${bound}`).to.equal(i + 1);
    });
    expect(latencyBucketOf(10 * 60_000)).to.equal(LATENCY_BUCKET_COUNT - 1);
  });

  it('reads percentiles within one bucket of the true value', () => {
    const samples = Array.from({ length: 1000 }, (_, i) => 1 + i); // 1..1000 ms
    const h = histogramOf(samples);
    for (const [q, truth] of [[0.5, 500], [0.95, 950], [0.99, 990]] as const) {
      const v = latencyQuantile(h, q);
      expect(v, `p${q * 100}`).to.be.within(truth / 1.19, truth * 1.19);
    }
    expect(latencyQuantile([], 0.5)).to.be.NaN;
    expect(latencyQuantile(histogramOf([120_000]), 0.99), 'overflow: the last bound').to.equal(LATENCY_BUCKET_BOUNDS_MS.at(-1));
  });

  it('merges exactly: the merge of two proxies equals the histogram of all their samples', () => {
    const a = [0.3, 2, 2, 40, 300];
    const b = [1, 5, 5000, 12];
    const merged = mergeLatencyBuckets(histogramOf(a), histogramOf(b));
    expect(merged).to.deep.equal(histogramOf([...a, ...b]));
    expect(latencyQuantile(merged, 0.5)).to.equal(latencyQuantile(histogramOf([...a, ...b]), 0.5));
    expect(mergeLatencyBuckets([1], [0, 0, 3])).to.deep.equal([1, 0, 3]);
  });

  it('trims trailing empty buckets for the wire', () => {
    expect(trimLatencyBuckets([0, 2, 0, 1, 0, 0])).to.deep.equal([0, 2, 0, 1]);
    expect(trimLatencyBuckets(new Uint32Array(5))).to.deep.equal([]);
  });
});
