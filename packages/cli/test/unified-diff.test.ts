import { expect } from 'chai';
import { unifiedDiff } from '../src/output/unified-diff';

describe('unifiedDiff', () => {
  const lines = (n: number, change: Record<number, string> = {}): string => Array.from({ length: n }, (_, i) => change[i] ?? `line ${i}`).join('\n');

  it('is empty for equal texts', () => {
    expect(unifiedDiff(lines(5), lines(5), { from: 'a', to: 'b' })).to.equal('');
  });

  it('prints hunks with three lines of context, removals before additions, and correct ranges', () => {
    const out = unifiedDiff(lines(20), lines(20, { 10: 'changed' }), { from: 'acked 1', to: 'current 2' });
    expect(out).to.equal(['--- acked 1', '+++ current 2', '@@ -8,7 +8,7 @@', ' line 7', ' line 8', ' line 9', '-line 10', '+changed', ' line 11', ' line 12', ' line 13', ''].join('\n'));
  });

  it('keeps far-apart changes in separate hunks and counts inserted lines', () => {
    const a = lines(30);
    const b = a.split('\n');
    b.splice(2, 0, 'new');
    b[26] = 'other';
    const out = unifiedDiff(a, b.join('\n'), { from: 'a', to: 'b' });
    expect(out.match(/^@@ .* @@$/gm)).to.deep.equal(['@@ -1,5 +1,6 @@', '@@ -23,7 +24,7 @@']);
    expect(out).to.contain('+new\n').and.contain('-line 25\n+other\n');
  });
});
