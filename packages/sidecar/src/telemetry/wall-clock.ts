import { performance } from 'node:perf_hooks';
import type { HrTime } from '@opentelemetry/api';

/** How often the monotonic clock is re-anchored to the wall clock, bounding drift between them. */
const REANCHOR_MS = 60_000;

let anchorWallMs = 0;
let anchorMonoMs = 0;
let timer: NodeJS.Timeout | undefined;

/** An anchor is trusted when the tick was pinned down to within this many ms. */
const BRACKET_MS = 0.02;
/** Tries per anchoring (each waits for one millisecond tick). */
const ATTEMPTS = 5;

/**
 * Waits for Date.now() to tick over and records the monotonic clock at that instant, so the anchor
 * is exact to within microseconds instead of a millisecond. The tick is pinned between a
 * monotonic reading taken before the last call that still saw the old millisecond and one taken
 * after the call that saw the new one; if the process was descheduled in between (a loaded
 * machine), that bracket is wide and the anchor would be off by as long, so it tries again, up to
 * ATTEMPTS ticks, and keeps the narrowest. Costs about 1 ms, once a minute, off the request path.
 * Between anchors the wall clock may be stepped (NTP, a resumed VM: steps of seconds were seen on
 * the development VM); span times follow the monotonic clock until the next anchor, which is why
 * the access log reads Date.now() itself.
 */
export function anchorWallClock(): void {
  let widest = Infinity;
  for (let attempt = 0; attempt < ATTEMPTS && widest > BRACKET_MS; attempt++) {
    const start = Date.now();
    let lower = -Infinity;
    let now = start;
    let upper = 0;
    for (;;) {
      const before = performance.now();
      now = Date.now();
      if (now !== start) {
        upper = performance.now();
        break;
      }
      lower = before;
    }
    if (upper - lower < widest) {
      widest = upper - lower;
      anchorMonoMs = (lower + upper) / 2;
      anchorWallMs = now;
    }
  }
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
