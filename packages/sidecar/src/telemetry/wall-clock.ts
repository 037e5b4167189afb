import { performance } from 'node:perf_hooks';
import type { HrTime } from '@opentelemetry/api';

/** How often the monotonic clock is re-anchored to the wall clock, bounding drift between them. */
const REANCHOR_MS = 60_000;

let anchorWallMs = 0;
let anchorMonoMs = 0;
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
  anchorMonoMs = performance.now();
  anchorWallMs = now;
}

/**
 * The wall-clock time (ms since the epoch, with a fraction) of a `performance.now()` reading, so
 * that one clock read per request serves both durations and timestamps.
 *
 * OpenTelemetry's default clock (performance.timeOrigin + performance.now()) can sit milliseconds
 * away from the wall clock, by a different amount in every process. Spans from two sidecars
 * would then disagree, and a SERVER span could appear to end after the CLIENT span that waited
 * for it. Every process on a host shares the wall clock, so anchoring to it keeps a trace's spans
 * nested the way they happened.
 */
export function wallClockMsAt(monotonicMs: number): number {
  if (!timer) {
    anchor();
    timer = setInterval(anchor, REANCHOR_MS);
    timer.unref();
  }
  return anchorWallMs + (monotonicMs - anchorMonoMs);
}

/** The time for span timestamps: wall-clock based, with sub-microsecond resolution. */
export function wallClockNow(): HrTime {
  const now = performance.now();
  if (!timer) wallClockMsAt(now);
  // Whole milliseconds and the fraction apart: their sum as one double (about 1.8e12) would round
  // to a quarter of a microsecond.
  const delta = now - anchorMonoMs;
  const wholeDelta = Math.floor(delta);
  const ms = anchorWallMs + wholeDelta;
  let seconds = Math.floor(ms / 1000);
  let nanos = (ms - seconds * 1000) * 1_000_000 + Math.round((delta - wholeDelta) * 1_000_000);
  if (nanos >= 1_000_000_000) {
    seconds += 1;
    nanos -= 1_000_000_000;
  }
  return [seconds, nanos];
}
