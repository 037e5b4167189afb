/**
 * The latency histogram sidecars keep for `weftctl stat` and `top`, and the merge and percentile
 * arithmetic the control plane and weftctl do on it. Every sidecar uses the same bucket bounds,
 * so histograms of many proxies merge by adding counts index by index, exactly, which averages
 * of percentiles could not do.
 *
 * Bounds grow by 2^(1/4) (about 19 %) from 0.1 ms to about 60 s: 78 buckets, so a percentile read
 * from them is off by at most one bucket's width (under 19 % of the value), whatever the traffic.
 */
const FIRST_BOUND_MS = 0.1;
const STEPS_PER_DOUBLING = 4;
const BUCKETS = 78;

/** Upper bounds (inclusive), in milliseconds; one more bucket after the last holds slower requests. */
export const LATENCY_BUCKET_BOUNDS_MS: readonly number[] = Object.freeze(
  Array.from({ length: BUCKETS }, (_, i) => Number((FIRST_BOUND_MS * 2 ** (i / STEPS_PER_DOUBLING)).toPrecision(4))),
);

/** How many counters a full histogram has: one per bound plus the overflow. */
export const LATENCY_BUCKET_COUNT = BUCKETS + 1;

const LOG_STEP = Math.log(2) / STEPS_PER_DOUBLING;

/** The bucket `ms` falls in: the first whose bound is at least `ms`. One log, no search. */
export function latencyBucketOf(ms: number): number {
  if (!(ms > FIRST_BOUND_MS)) return 0;
  let i = Math.ceil(Math.log(ms / FIRST_BOUND_MS) / LOG_STEP);
  // toPrecision rounding can put a value right at a bound one bucket off: settle it by comparing.
  if (i > 0 && ms <= (LATENCY_BUCKET_BOUNDS_MS[i - 1] as number)) i -= 1;
  else if (i < BUCKETS && ms > (LATENCY_BUCKET_BOUNDS_MS[i] as number)) i += 1;
  return Math.min(i, BUCKETS);
}

/** Adds `from` into `into`, index by index; `into` grows to the longer length. */
export function mergeLatencyBuckets(into: number[], from: readonly number[]): number[] {
  for (let i = 0; i < from.length; i++) into[i] = (into[i] ?? 0) + (from[i] as number);
  return into;
}

/** Trailing zero buckets left out, as the wire carries them. */
export function trimLatencyBuckets(buckets: ArrayLike<number>): number[] {
  let end = buckets.length;
  while (end > 0 && buckets[end - 1] === 0) end--;
  return Array.from({ length: end }, (_, i) => buckets[i] as number);
}

/**
 * The `q` quantile (0 < q <= 1) in milliseconds, interpolated linearly within its bucket as
 * Prometheus' histogram_quantile does; NaN without samples. A quantile in the overflow bucket is
 * reported as the last bound (the histogram cannot say more).
 */
export function latencyQuantile(buckets: readonly number[], q: number): number {
  let total = 0;
  for (const n of buckets) total += n;
  if (total === 0) return Number.NaN;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < buckets.length; i++) {
    const n = buckets[i] as number;
    if (n === 0 || seen + n < rank) {
      seen += n;
      continue;
    }
    if (i >= BUCKETS) return LATENCY_BUCKET_BOUNDS_MS[BUCKETS - 1] as number;
    const lower = i === 0 ? 0 : (LATENCY_BUCKET_BOUNDS_MS[i - 1] as number);
    const upper = LATENCY_BUCKET_BOUNDS_MS[i] as number;
    return lower + (upper - lower) * ((rank - seen) / n);
  }
  return LATENCY_BUCKET_BOUNDS_MS[BUCKETS - 1] as number;
}
