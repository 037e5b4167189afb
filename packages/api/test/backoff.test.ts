import { expect } from 'chai';
import { Backoff, fullJitterDelay } from '../src/backoff';

describe('backoff (full jitter)', () => {
  const base = 25;
  const cap = 250;
  const table: [number, number, number][] = [
    // n (0 for the first wait), random, expected ms
    [0, 0.999, 24],
    [1, 0.999, 49],
    [2, 0.5, 50],
    [4, 0.999, 249], // capped
    [8, 0.999, 249],
    [0, 0, 0],
    [5_000, 0.999, 249], // a long outage: the exponent is capped, the ceiling stays finite
  ];
  for (const [n, r, ms] of table) it(`fullJitterDelay(${n}) with random ${r} -> ${ms}ms`, () => expect(fullJitterDelay(n, base, cap, () => r)).to.equal(ms));

  it('Backoff walks the same ceilings attempt by attempt, and starts again after reset()', () => {
    const backoff = new Backoff({ baseMs: base, capMs: cap }, () => 0.999);
    const waits = [backoff.next(), backoff.next(), backoff.next(), backoff.next(), backoff.next()];
    expect(waits).to.deep.equal([0, 1, 2, 3, 4].map((n) => fullJitterDelay(n, base, cap, () => 0.999)));
    expect(waits).to.deep.equal([24, 49, 99, 199, 249]);
    expect(backoff.attempts).to.equal(5);
    backoff.reset();
    expect([backoff.next(), backoff.attempts]).to.deep.equal([24, 1]);
  });
});
