/**
 * A ring of fixed time buckets (10 s each, 60 of them: 10 minutes by default): what happened in
 * each bucket, the oldest overwritten as time moves on. Memory is bounded by the number of buckets
 * times what one bucket holds; nothing runs on a timer, a bucket is reset when first written in
 * its new period.
 */
export const RING_BUCKET_MS = 10_000;
/** One more than 10 minutes' worth: a window rounded up to whole buckets still fits. */
export const RING_BUCKETS = 61;

interface Slot<T> {
  startMs: number;
  value: T;
}

export interface RingWindow<T> {
  /** The buckets in the window, oldest first, with the start of each one's period. */
  readonly buckets: readonly { readonly startMs: number; readonly value: T }[];
  /** The time they cover: from the start of the oldest (or of the ring, if later) to now. */
  readonly coveredMs: number;
}

export class TimeRing<T> {
  /** How long one bucket's period is. */
  readonly bucketMs: number;
  readonly #slots: (Slot<T> | undefined)[];
  readonly #make: () => T;
  readonly #bucketMs: number;
  readonly #createdAtMs: number;
  /** The slot written last and when its period ends: the common case is one comparison. */
  #current: Slot<T> | undefined;
  #currentEndMs = 0;

  constructor(make: () => T, nowMs: number, bucketMs = RING_BUCKET_MS, buckets = RING_BUCKETS) {
    this.#make = make;
    this.#bucketMs = bucketMs;
    this.bucketMs = bucketMs;
    this.#slots = new Array<Slot<T> | undefined>(buckets).fill(undefined);
    this.#createdAtMs = nowMs;
  }

  /** The longest window the ring can answer for (one bucket is kept for rounding up). */
  get spanMs(): number {
    return (this.#slots.length - 1) * this.#bucketMs;
  }

  /** The bucket `nowMs` falls in, reset first if it still holds an older period. */
  at(nowMs: number): T {
    const current = this.#current;
    if (current !== undefined && nowMs < this.#currentEndMs && nowMs >= current.startMs) return current.value;
    const startMs = nowMs - (nowMs % this.#bucketMs);
    const index = Math.floor(nowMs / this.#bucketMs) % this.#slots.length;
    let slot = this.#slots[index];
    if (slot === undefined || slot.startMs !== startMs) {
      slot = { startMs, value: this.#make() };
      this.#slots[index] = slot;
    }
    this.#current = slot;
    this.#currentEndMs = startMs + this.#bucketMs;
    return slot.value;
  }

  /**
   * The buckets that overlap the last `windowMs` (at most the ring's span), so the window is
   * rounded up to whole buckets; `coveredMs` says exactly how long that is.
   */
  window(windowMs: number, nowMs: number): RingWindow<T> {
    const span = Math.min(Math.max(windowMs, 1), this.spanMs);
    const from = nowMs - span;
    const firstStartMs = from - (from % this.#bucketMs);
    const slots = this.#slots.filter((s): s is Slot<T> => s !== undefined && s.startMs >= firstStartMs && s.startMs <= nowMs);
    slots.sort((a, b) => a.startMs - b.startMs);
    // Empty buckets are time without traffic: they count. Time before the ring existed does not.
    const startMs = Math.min(Math.max(firstStartMs, this.#createdAtMs), nowMs - 1);
    return { buckets: slots.map(({ startMs, value }) => ({ startMs, value })), coveredMs: nowMs - startMs };
  }
}
