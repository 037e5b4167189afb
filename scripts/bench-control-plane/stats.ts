/** The arithmetic of the control plane bench: pure functions, unit-tested. */

/** The p-th percentile (0-100) by nearest rank of the finite values; NaN when there are none. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] as number;
}

export interface Spread {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  /** Values that were not finite: proxies that never answered. */
  readonly missing: number;
}

export function spread(values: readonly number[]): Spread {
  return { p50: percentile(values, 50), p99: percentile(values, 99), max: percentile(values, 100), missing: values.filter((v) => !Number.isFinite(v)).length };
}

/** Counts per `bucketMs` from 0 up to the largest finite value: bucket i holds [i*bucketMs, (i+1)*bucketMs). */
export function histogram(values: readonly number[], bucketMs: number): number[] {
  const finite = values.filter(Number.isFinite).map((v) => Math.max(0, v));
  if (finite.length === 0) return [];
  const buckets = new Array<number>(Math.floor(Math.max(...finite) / bucketMs) + 1).fill(0);
  for (const v of finite) buckets[Math.floor(v / bucketMs)] = (buckets[Math.floor(v / bucketMs)] as number) + 1;
  return buckets;
}

/**
 * Whether reconnects bunched: the largest share of all reconnects that fell into one bucket. With
 * full jitter over a backoff ceiling of C ms, an even spread puts about bucket/C of them in each.
 */
export function peakShare(buckets: readonly number[]): number {
  const total = buckets.reduce((a, b) => a + b, 0);
  return total === 0 ? 0 : Math.max(...buckets) / total;
}

/** A histogram on one line: `count` per bucket, an empty bucket as `.`, four or more empty ones in a row as `(n x .)`. */
export function sparkline(buckets: readonly number[]): string {
  return buckets
    .map((n) => (n === 0 ? '.' : String(n)))
    .join(' ')
    .replace(/\.(?: \.){3,}/g, (run) => `(${(run.length + 1) / 2} x .)`);
}
