import { expect } from 'chai';
import { anchorWallClock, wallClockNow } from '../../src/telemetry/wall-clock';

describe('telemetry/wall-clock', () => {
  const ms = ([s, n]: [number, number]): number => s * 1000 + n / 1e6;

  it('right after anchoring, span times are the wall clock to within its millisecond', () => {
    wallClockNow(); // starts the re-anchoring timer as the first span does
    anchorWallClock();
    const before = Date.now();
    const t = wallClockNow();
    const after = Date.now();
    expect(Number.isInteger(t[0]) && Number.isInteger(t[1])).to.equal(true);
    expect(t[1]).to.be.within(0, 999_999_999);
    expect(ms(t)).to.be.within(before, after + 1);
  });

  it('never goes back between anchors', () => {
    let last = ms(wallClockNow());
    for (let i = 0; i < 10_000; i++) {
      const now = ms(wallClockNow());
      expect(now).to.be.at.least(last);
      last = now;
    }
  });
});
