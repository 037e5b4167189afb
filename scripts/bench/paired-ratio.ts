/**
 * Two builds measured side by side, slot by slot: the ratio of their figures in each slot, and
 * what those ratios say together. On a shared host a 5-second slot's CPU per request moves by
 * ±30% with what else runs; both builds in one slot see the same host, so their ratio moves far
 * less, and the spread of the per-slot ratios says how far the summary can be trusted.
 */
export interface PairedRatio {
  /** Per-slot ratios, candidate / baseline, in slot order. */
  readonly ratios: readonly number[];
  readonly median: number;
  /** Geometric mean: a ratio of 1.1 and one of 1/1.1 average to 1. */
  readonly geomean: number;
  /** Standard error of the geometric mean, as a ratio (NaN with fewer than two slots). */
  readonly standardError: number;
}

export function pairedRatio(candidate: readonly number[], baseline: readonly number[]): PairedRatio {
  if (candidate.length !== baseline.length) throw new Error(`pairedRatio: ${candidate.length} candidate slots against ${baseline.length} baseline slots`);
  const ratios = candidate.map((value, i) => value / (baseline[i] as number));
  const logs = ratios.map(Math.log);
  const mean = logs.reduce((sum, x) => sum + x, 0) / logs.length;
  const variance = logs.reduce((sum, x) => sum + (x - mean) ** 2, 0) / (logs.length - 1);
  const geomean = Math.exp(mean);
  const sorted = [...ratios].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
  return { ratios, median, geomean, standardError: logs.length < 2 ? NaN : geomean * Math.sqrt(variance / logs.length) };
}

/** `0.975× ± 0.019 (geometric mean of 10 slots, standard error; median 0.985×)` */
export function renderPairedRatio(ratio: PairedRatio): string {
  return `${ratio.geomean.toFixed(3)}× ± ${ratio.standardError.toFixed(3)} (geometric mean of ${ratio.ratios.length} slots, standard error; median ${ratio.median.toFixed(3)}×)`;
}
