import { expect } from 'chai';
import { TelemetryEvents } from '../../src/telemetry/events';

describe('telemetry/events', () => {
  const payload = { destination: 'orders.default', source: 'frontend.default' };

  it('calls every listener in order; one that unsubscribes during an emit does not make the next one miss it', () => {
    const events = new TelemetryEvents();
    const calls: string[] = [];
    const offA = events.on('weft:rate-limited', () => {
      calls.push('a');
      offA();
    });
    events.on('weft:rate-limited', (e) => calls.push(`b:${e.source}`));
    events.emit('weft:rate-limited', payload);
    events.emit('weft:rate-limited', payload);
    expect(calls).to.deep.equal(['a', 'b:frontend.default', 'b:frontend.default']);
  });

  it('stops calling a listener once it unsubscribes, twice is harmless, and other events are apart', () => {
    const events = new TelemetryEvents();
    let n = 0;
    const off = events.on('weft:rate-limited', () => (n += 1));
    events.emit('weft:authz-denied', { source: 's', destination: 'd', policy: '', cause: 'no-allow' });
    events.emit('weft:rate-limited', payload);
    off();
    off();
    events.emit('weft:rate-limited', payload);
    expect(n).to.equal(1);
  });
});
