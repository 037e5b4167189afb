import { expect } from 'chai';
import { LogThrottle } from '../src/log-throttle';
import type { Logger } from '../src/log';

/** A logger that keeps what it was told (api's tests cannot use @weft/harness, which depends on api). */
function recording(): { log: Logger; lines: { msg: string; fields: Record<string, unknown> }[] } {
  const lines: { msg: string; fields: Record<string, unknown> }[] = [];
  const write = (msg: string, fields: Record<string, unknown> = {}): void => void lines.push({ msg, fields });
  const log: Logger = { debug: write, info: write, warn: write, error: write, child: () => log };
  return { log, lines };
}

describe('LogThrottle', () => {
  let now = 0;
  const clock = (): number => now;

  it('writes the first lines of each key per interval, counts the rest, and summarizes them when the interval ends or at close', () => {
    now = 0;
    const { log, lines } = recording();
    const throttle = new LogThrottle(log, 'refused connections', { linesPerInterval: 2, intervalMs: 60_000 }, clock);
    const refuse = (where: string): void => throttle.record(where, { destination: where }, () => log.warn('refused', { destination: where }));
    for (let i = 0; i < 100; i++) refuse('1.2.3.4:443');
    refuse('5.6.7.8:80');
    expect(lines.map((l) => [l.msg, l.fields['destination']])).to.deep.equal([
      ['refused', '1.2.3.4:443'],
      ['refused', '1.2.3.4:443'],
      ['refused', '5.6.7.8:80'],
    ]);
    now = 60_000;
    refuse('1.2.3.4:443'); // a new interval: the summary of the last one first, then a line again
    expect(lines.slice(3).map((l) => [l.msg, l.fields['destination'], l.fields['suppressed']])).to.deep.equal([
      ['suppressed 98 similar refused connections', '1.2.3.4:443', 98],
      ['refused', '1.2.3.4:443', undefined],
    ]);
    refuse('1.2.3.4:443');
    refuse('1.2.3.4:443');
    throttle.close();
    expect(lines.slice(5).map((l) => [l.msg, l.fields['suppressed']])).to.deep.equal([
      ['refused', undefined],
      ['suppressed 1 similar refused connections', 1],
    ]);
  });

  it('keeps at most maxKeys keys: events of further keys share the overflow key and its summary', () => {
    now = 0;
    const { log, lines } = recording();
    const throttle = new LogThrottle(log, 'events', { linesPerInterval: 1, maxKeys: 2 }, clock);
    for (let i = 0; i < 10; i++) throttle.record(`k${i}`, { key: `k${i}` }, () => log.warn('event', { key: `k${i}` }), { key: 'all', summary: { key: '*' } });
    throttle.close();
    expect(lines.map((l) => [l.msg, l.fields['key']])).to.deep.equal([
      ['event', 'k0'],
      ['event', 'k1'],
      ['event', 'k2'],
      ['suppressed 7 similar events', '*'],
    ]);
  });
});
