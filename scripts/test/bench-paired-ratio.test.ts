import { expect } from 'chai';
import { pairedRatio, renderPairedRatio } from '../bench/paired-ratio';

describe('bench paired ratio (two builds measured in the same slots)', () => {
  it('takes the ratio slot by slot, so a slot where the whole host was slow does not count against either build', () => {
    // The second slot is twice as slow for both: per-slot ratios stay 1.1.
    const ratio = pairedRatio([110, 220, 110], [100, 200, 100]);
    expect(ratio.ratios.map((r) => r.toFixed(3))).to.deep.equal(['1.100', '1.100', '1.100']);
    expect(ratio.geomean).to.be.closeTo(1.1, 1e-9);
    expect(ratio.median).to.be.closeTo(1.1, 1e-9);
    expect(ratio.standardError).to.be.closeTo(0, 1e-9);
  });

  it('averages ratios geometrically (1.25 and 0.8 are no difference) and gives the standard error', () => {
    const ratio = pairedRatio([125, 80], [100, 100]);
    expect(ratio.geomean).to.be.closeTo(1, 1e-9);
    expect(ratio.median).to.be.closeTo(1.025, 1e-9);
    // logs ±0.2231, sample sd 0.3156, over sqrt(2)
    expect(ratio.standardError).to.be.closeTo(0.2231, 1e-3);
    expect(renderPairedRatio(ratio)).to.equal('1.000× ± 0.223 (geometric mean of 2 slots, standard error; median 1.025×)');
  });

  it('refuses slots that do not pair up', () => {
    expect(() => pairedRatio([1, 2], [1])).to.throw(/2 candidate slots against 1/);
  });
});
