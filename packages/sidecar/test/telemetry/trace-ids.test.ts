import { expect } from 'chai';
import { newSpanId, newTraceId } from '../../src/telemetry/trace-ids';

describe('telemetry/trace-ids', () => {
  it('hands out lower-case hex ids of the right length, all different, across pool refills', () => {
    const traces = new Set<string>();
    const spans = new Set<string>();
    // 4096-byte pool: 24 bytes a round, so 1000 rounds refill it several times.
    for (let i = 0; i < 1000; i++) {
      const t = newTraceId();
      const s = newSpanId();
      expect(t).to.match(/^[0-9a-f]{32}$/).and.not.equal('0'.repeat(32));
      expect(s).to.match(/^[0-9a-f]{16}$/).and.not.equal('0'.repeat(16));
      traces.add(t);
      spans.add(s);
    }
    expect(traces.size).to.equal(1000);
    expect(spans.size).to.equal(1000);
  });
});
