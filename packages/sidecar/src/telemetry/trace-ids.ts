import { randomFillSync } from 'node:crypto';

/**
 * Trace and span IDs for the spans Weft propagates without the OpenTelemetry SDK (every unsampled
 * request): hex taken from one pool of random bytes, refilled from the CSPRNG when used up, so a
 * request costs a slice of a buffer rather than a buffer and a syscall of its own.
 */
const POOL_BYTES = 4096;
const pool = Buffer.allocUnsafe(POOL_BYTES);
let used = POOL_BYTES;

function randomHex(bytes: number): string {
  if (used + bytes > POOL_BYTES) {
    randomFillSync(pool);
    used = 0;
  }
  const hex = pool.toString('hex', used, used + bytes);
  used += bytes;
  return hex;
}

const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

/** 32 lower-case hex digits, never all zero (an all-zero ID is invalid in W3C Trace Context). */
export function newTraceId(): string {
  let id = randomHex(16);
  while (id === ZERO_TRACE) id = randomHex(16);
  return id;
}

/** 16 lower-case hex digits, never all zero. */
export function newSpanId(): string {
  let id = randomHex(8);
  while (id === ZERO_SPAN) id = randomHex(8);
  return id;
}
