import { expect } from 'chai';
import { fault } from '../../../src/outbound/route/fault';
import { seeded } from '../../balance/fixtures';
import { TelemetryEvents } from '../../../src/telemetry/events';
import { neverAborted, record, response } from '../../layers/fakes';

describe('route/fault: percentages', () => {
  const N = 10_000;
  // Each row: delay percent, abort percent; the shares seen must be within 1.5 points (> 4 sigma at N).
  const rows: [number, number][] = [
    [0, 0],
    [10, 0],
    [0, 30],
    [50, 5],
    [100, 100],
  ];
  for (const [delayPercent, abortPercent] of rows) {
    it(`delays ${delayPercent}% and aborts ${abortPercent}% of requests, decided independently`, async () => {
      let called = 0;
      const events = new TelemetryEvents();
      const reported = { delay: 0, abort: 0 };
      events.on('weft:fault-injected', (e) => {
        expect(e).to.include({ destination: 'orders.default', route: 'orders/0' });
        reported[e.fault] += 1;
      });
      const svc = fault(
        { name: 'orders/0', destination: { key: 'orders.default' }, fault: { delay: delayPercent > 0 ? { percent: delayPercent, ms: 0 } : undefined, abort: abortPercent > 0 ? { percent: abortPercent, status: 503 } : undefined } },
        { events },
        async () => {
          called += 1;
          return response(200);
        },
        seeded(42),
      );
      let delayed = 0;
      let aborted = 0;
      for (let i = 0; i < N; i++) {
        const req = { signal: neverAborted(), record: record() };
        const res = await svc(req);
        if (req.record.phase === 'fault delay') delayed++;
        if (res.status === 503) aborted++;
      }
      expect(delayed / N).to.be.closeTo(delayPercent / 100, 0.015);
      expect(aborted / N).to.be.closeTo(abortPercent / 100, 0.015);
      expect(called).to.equal(N - aborted);
      // Every injected fault is reported (weft_faults_injected_total), and nothing else is.
      expect(reported).to.deep.equal({ delay: delayed, abort: aborted });
    });
  }
});
