import { expect } from 'chai';
import { relativeTime, shortDuration, toYamlDocuments, truncate } from '../src/output/format';
import { renderTable } from '../src/output/table';

describe('renderTable', () => {
  it('aligns columns under their headers and trims trailing space', () => {
    const text = renderTable(
      ['NAMESPACE', 'NAME', 'SERVICE'],
      [
        ['default', 'inventory', 'inventory'],
        ['shop', 'orders', ''],
      ],
    );
    expect(text).to.equal(
      ['NAMESPACE   NAME        SERVICE', 'default     inventory   inventory', 'shop        orders', ''].join('\n'),
    );
  });

  it('keeps each row on one line', () => {
    expect(renderTable(['A', 'B'], [['x\ny', 'z']])).to.equal('A     B\nx y   z\n');
  });
});

describe('time and text formatting', () => {
  const cases: [number, string][] = [
    [0, '0ms'],
    [850, '850ms'],
    [12_000, '12s'],
    [61_000, '1m1s'],
    [3_600_000, '1h'],
    [86_399_000, '23h59m'],
    [90_061_000, '1d1h'],
  ];
  for (const [ms, text] of cases) it(`shortDuration(${ms}) = ${text}`, () => expect(shortDuration(ms)).to.equal(text));

  it('relativeTime says "in" for the future, "ago" for the past, "-" for no time', () => {
    const now = 1_700_000_000_000;
    expect(relativeTime(now + 86_399_000, now)).to.equal('in 23h59m');
    expect(relativeTime(now - 312_000, now)).to.equal('5m12s ago');
    expect(relativeTime(0, now)).to.equal('-');
  });

  it('truncate flattens whitespace and cuts with an ellipsis', () => {
    expect(truncate('short', 10)).to.equal('short');
    expect(truncate('spec.rules[0]:\n  bad regex "("', 20)).to.equal('spec.rules[0]: ba...');
  });

  it('toYamlDocuments separates documents so the output can be applied again', () => {
    expect(toYamlDocuments([{ a: 1 }, { b: 2 }])).to.equal('a: 1\n---\nb: 2\n');
  });
});
