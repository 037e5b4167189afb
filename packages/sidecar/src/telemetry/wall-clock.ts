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
 * off the request path. Between anchors the wall clock may be stepped (NTP, a resumed VM: steps
 * of seconds were seen on the development VM); span times follow the monotonic clock until the
 * next anchor, which is why the access log reads Date.now() itself.
 */
export function anchorWallClock(): void {
  const start = Date.now();
  let now = Date.now();
  while (now === start) now = Date.now();
  anchorMonoMs = performance.now();
  anchorWallMs = now;
}

/**
 * The time for span timestamps: wall-clock based, with sub-microsecond resolution, from one
 * `performance.now()` and float arithmetic (no BigInt).
 *
 * OpenTelemetry's default clock (performance.timeOrigin + performance.now()) can sit milliseconds
 * away from the wall clock, by a different amount in every process. Spans from two sidecars
 * would then disagree, and a SERVER span could appear to end after the CLIENT span that waited
 * for it. Every process on a host shares the wall clock, so anchoring to it keeps a trace's spans
 * nested the way they happened.
 */
export function wallClockNow(): HrTime {
  if (!timer) {
    anchorWallClock();
    timer = setInterval(anchorWallClock, REANCHOR_MS);
    timer.unref();
  }
  // Whole milliseconds and the fraction apart: their sum as one double (about 1.8e12) would round
  // to a quarter of a microsecond.
  const delta = performance.now() - anchorMonoMs;
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
