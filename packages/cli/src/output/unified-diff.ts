/** Lines of context around each change, as `diff -u`. */
const CONTEXT = 3;
/** Past this many cells the middle is shown as removed-then-added rather than aligned line by line. */
const MAX_CELLS = 4_000_000;

type Op = { readonly kind: ' ' | '-' | '+'; readonly line: string };

/** The edit script from `a` to `b`: common prefix and suffix kept, the middle aligned by LCS. */
function editScript(a: readonly string[], b: readonly string[]): Op[] {
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const head = a.slice(0, start).map((line): Op => ({ kind: ' ', line }));
  const tail = a.slice(endA).map((line): Op => ({ kind: ' ', line }));
  const x = a.slice(start, endA);
  const y = b.slice(start, endB);
  if (x.length * y.length > MAX_CELLS) {
    return [...head, ...x.map((line): Op => ({ kind: '-', line })), ...y.map((line): Op => ({ kind: '+', line })), ...tail];
  }
  // lcs[i][j]: length of the longest common subsequence of x[i..] and y[j..].
  const lcs = Array.from({ length: x.length + 1 }, () => new Uint32Array(y.length + 1));
  for (let i = x.length - 1; i >= 0; i--) {
    for (let j = y.length - 1; j >= 0; j--) {
      (lcs[i] as Uint32Array)[j] = x[i] === y[j] ? ((lcs[i + 1] as Uint32Array)[j + 1] as number) + 1 : Math.max((lcs[i + 1] as Uint32Array)[j] as number, (lcs[i] as Uint32Array)[j + 1] as number);
    }
  }
  const middle: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < x.length || j < y.length) {
    if (i < x.length && j < y.length && x[i] === y[j]) {
      middle.push({ kind: ' ', line: x[i++] as string });
      j++;
    } else if (i < x.length && (j === y.length || ((lcs[i + 1] as Uint32Array)[j] as number) >= ((lcs[i] as Uint32Array)[j + 1] as number))) {
      // Removals before additions on a tie, as diff -u prints a replaced line.
      middle.push({ kind: '-', line: x[i++] as string });
    } else {
      middle.push({ kind: '+', line: y[j++] as string });
    }
  }
  return [...head, ...middle, ...tail];
}

/**
 * A unified diff (`--- a`, `+++ b`, `@@ -l,n +l,n @@` hunks with 3 lines of context) of two
 * texts, or '' when they are equal. Deterministic: the same inputs give the same output.
 */
export function unifiedDiff(a: string, b: string, labels: { readonly from: string; readonly to: string }): string {
  if (a === b) return '';
  const ops = editScript(a.split('\n'), b.split('\n'));
  const changed = ops.map((op, k) => (op.kind !== ' ' ? k : -1)).filter((k) => k >= 0);
  let out = `--- ${labels.from}\n+++ ${labels.to}\n`;
  for (let c = 0; c < changed.length; ) {
    // A hunk spans changes whose context windows touch.
    const first = changed[c] as number;
    let last = first;
    while (c < changed.length && (changed[c] as number) - last <= 2 * CONTEXT) last = changed[c++] as number;
    const from = Math.max(0, first - CONTEXT);
    const to = Math.min(ops.length, last + CONTEXT + 1);
    const before = ops.slice(0, from);
    const hunk = ops.slice(from, to);
    const startA = before.filter((op) => op.kind !== '+').length + 1;
    const startB = before.filter((op) => op.kind !== '-').length + 1;
    const lenA = hunk.filter((op) => op.kind !== '+').length;
    const lenB = hunk.filter((op) => op.kind !== '-').length;
    out += `@@ -${startA},${lenA} +${startB},${lenB} @@\n${hunk.map((op) => `${op.kind}${op.line}\n`).join('')}`;
  }
  return out;
}
