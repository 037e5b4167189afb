import { expect } from 'chai';
import { formatDuration, parseDuration, parseSpiffeId, spiffeId } from '../src';

describe('durations', () => {
  const cases: [string, number | undefined][] = [
    ['250ms', 250],
    ['2s', 2000],
    ['1.5m', 90_000],
    ['24h', 86_400_000],
    ['1d', 86_400_000],
    ['2 s', undefined],
    ['-1s', undefined],
    ['10', undefined],
    ['1w', undefined],
  ];
  for (const [text, ms] of cases) {
    it(`parses ${JSON.stringify(text)} as ${ms}`, () => expect(parseDuration(text)).to.equal(ms));
  }

  it('formats as an operator writes it', () => {
    expect(formatDuration(250)).to.equal('250ms');
    expect(formatDuration(5_400_000)).to.equal('1h30m');
    expect(formatDuration(90_061_000)).to.equal('1d1h1m1s');
  });
});

describe('SPIFFE IDs', () => {
  it('round-trips a workload identity', () => {
    const id = { trustDomain: 'weft.local', namespace: 'shop', service: 'orders' };
    expect(spiffeId(id)).to.equal('spiffe://weft.local/ns/shop/sa/orders');
    expect(parseSpiffeId(spiffeId(id))).to.deep.equal(id);
  });

  it('refuses anything that is not exactly ns/<n>/sa/<s>', () => {
    for (const bad of ['spiffe://weft.local/ns/shop', 'https://weft.local/ns/a/sa/b', 'spiffe://weft.local/ns/a/sa/b/extra', 'spiffe://weft.local/ns/A/sa/b']) {
      expect(parseSpiffeId(bad), bad).to.equal(undefined);
    }
  });
});
