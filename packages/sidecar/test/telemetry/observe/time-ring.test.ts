import { expect } from 'chai';
import { TimeRing } from '../../../src/telemetry/observe/time-ring';

describe('telemetry/observe/time-ring', () => {
  const make = (): { n: number } => ({ n: 0 });

  it('keeps one bucket per 10 s period and a window rounded up to whole buckets', () => {
    const ring = new TimeRing(make, 0, 10_000, 7);
    ring.at(1_000).n += 1;
    ring.at(9_999).n += 1;
    ring.at(10_000).n += 5;
    ring.at(35_000).n += 7;
    const all = ring.window(60_000, 39_000);
    expect(all.buckets.map((b) => [b.startMs, b.value.n])).to.deep.equal([[0, 2], [10_000, 5], [30_000, 7]]);
    expect(all.coveredMs, 'from the ring start, not 60 s').to.equal(39_000);
    // The last 10 s from 39 s reach back to 29 s: the 20 s bucket (empty) and the 30 s one.
    const recent = ring.window(10_000, 39_000);
    expect(recent.buckets.map((b) => b.value.n)).to.deep.equal([7]);
    expect(recent.coveredMs).to.equal(19_000);
  });

  it('overwrites a bucket when its slot comes round again, and never answers for more than its span', () => {
    const ring = new TimeRing(make, 0, 10_000, 4); // span 30 s
    ring.at(5_000).n = 1;
    ring.at(45_000).n = 2; // same slot as 5 s, four periods on
    expect(ring.spanMs).to.equal(30_000);
    const w = ring.window(600_000, 45_000);
    expect(w.buckets.map((b) => [b.startMs, b.value.n])).to.deep.equal([[40_000, 2]]);
    expect(w.coveredMs).to.equal(35_000);
    // A period without writes leaves the old bucket in its slot, but outside every window.
    expect(ring.window(10_000, 95_000).buckets).to.deep.equal([]);
  });
});
