import type { HrTime } from '@opentelemetry/api';

/** How often the monotonic clock is re-anchored to the wall clock, bounding drift between them. */
const REANCHOR_MS = 60_000;

let anchorWallMs = 0;
let anchorMonoNs = 0n;
let timer: NodeJS.Timeout | undefined;

/**
 * Waits for Date.now() to tick over and records the monotonic clock at that instant, so the anchor
 * is exact to within microseconds instead of a millisecond. Costs at most 1 ms, once a minute,
 * off the request path.
 */
function anchor(): void {
  const start = Date.now();
  let now = Date.now();
  while (now === start) now = Date.now();
  anchorMonoNs = process.hrtime.bigint();
  anchorWallMs = now;
}

/**
 * The time for span timestamps: wall-clock based, with sub-millisecond resolution.
 *
 * OpenTelemetry's default clock (performance.timeOrigin + performance.now()) can sit milliseconds
 * away from the wall clock, by a different amount in every process. Spans from two sidecars
 * would then disagree, and a SERVER span could appear to end after the CLIENT span that waited
 * for it. Every process on a host shares the wall clock, so anchoring to it keeps a trace's spans
 * nested the way they happened.
 */
export function wallClockNow(): HrTime {
  if (!timer) {
    anchor();
    timer = setInterval(anchor, REANCHOR_MS);
    timer.unref();
  }
  const ns = BigInt(anchorWallMs) * 1_000_000n + (process.hrtime.bigint() - anchorMonoNs);
  return [Number(ns / 1_000_000_000n), Number(ns % 1_000_000_000n)];
}
