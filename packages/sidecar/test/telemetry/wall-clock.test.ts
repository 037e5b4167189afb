import { performance } from 'node:perf_hooks';
import { expect } from 'chai';
import { RequestRecord } from '../../src/telemetry/record';
import { wallClockMsAt, wallClockNow } from '../../src/telemetry/wall-clock';

describe('telemetry/wall-clock', () => {
  it('span times and a record start follow the wall clock, from one monotonic reading', () => {
    const before = Date.now();
    const [seconds, nanos] = wallClockNow();
    const record = new RequestRecord('inbound', 'GET');
    const after = Date.now();
    expect(Number.isInteger(seconds) && Number.isInteger(nanos)).to.equal(true);
    expect(nanos).to.be.within(0, 999_999_999);
    const ms = seconds * 1000 + nanos / 1e6;
    // The anchor is exact to well under a millisecond; Date.now() itself truncates to one.
    expect(ms).to.be.within(before - 1, after + 1);
    expect(record.startTime).to.be.within(before - 1, after + 1);
    expect(wallClockMsAt(record.startedAt)).to.equal(record.startTime);
  });

  it('moves forward with the monotonic clock', () => {
    const t0 = wallClockMsAt(performance.now());
    const [s, n] = wallClockNow();
    expect(s * 1000 + n / 1e6).to.be.at.least(t0 - 0.001);
  });
});
