/**
 * W3C Trace Context `traceparent` (https://www.w3.org/TR/trace-context/), parsed and formatted by
 * hand: the sidecar propagates context itself and never installs a global propagator.
 */

export interface TraceParent {
  /** 32 lower-case hex digits, not all zero. */
  readonly traceId: string;
  /** 16 lower-case hex digits, not all zero. */
  readonly spanId: string;
  /** Bit 0 is `sampled`. */
  readonly flags: number;
}

const VERSION_00 = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
// A later version may append fields after the four we know; only its prefix is read (spec 4.3).
const FUTURE_VERSION = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(?:-.*)?$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

/** The parsed header, or undefined when it is absent or invalid (then a new trace starts). */
export function parseTraceParent(header: string | string[] | undefined): TraceParent | undefined {
  // Several traceparent headers make the context ambiguous: the spec says to start over.
  if (typeof header !== 'string') return undefined;
  const text = header.trim();
  let traceId: string | undefined;
  let spanId: string | undefined;
  let flags: string | undefined;
  const v0 = VERSION_00.exec(text);
  if (v0) {
    [, traceId, spanId, flags] = v0;
  } else {
    const later = FUTURE_VERSION.exec(text);
    if (!later || later[1] === '00' || later[1] === 'ff') return undefined;
    [, , traceId, spanId, flags] = later;
  }
  if (!traceId || !spanId || !flags || traceId === ZERO_TRACE || spanId === ZERO_SPAN) return undefined;
  return { traceId, spanId, flags: parseInt(flags, 16) };
}

export function formatTraceParent(tp: TraceParent): string {
  return `00-${tp.traceId}-${tp.spanId}-${(tp.flags & 0xff).toString(16).padStart(2, '0')}`;
}
