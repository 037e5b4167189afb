/**
 * Coalesces bursts of changes into one push. The first change opens a window of `debounceMs`;
 * changes inside it ride along; the push runs when the window closes. The window is never
 * extended by further changes, so a steady stream of changes still pushes regularly instead of
 * starving.
 *
 * A push is synchronous work proportional to the fleet (every stream's snapshot is looked up,
 * encoded and written), so the next one also waits until `spacing` times the last push's duration
 * has passed since it ended: the event loop spends at most 1/(spacing+1) of its time pushing and
 * keeps answering keepalive pings, ACKs and the admin API. Without it, a fleet joining (an
 * endpoint change every window) had a control plane at 1,000 proxies push back to back, stall past
 * the sidecars' keepalive timeout and drop streams, whose reconnects were more changes
 * (bench:control-plane). When pushes are cheap (a settled fleet) the window alone decides.
 */
export class PushQueue {
  readonly #debounceMs: number;
  readonly #flush: () => void;
  readonly #spacing: number;
  readonly #now: () => number;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  /** When the last push ended, and how long it took (ms on `now`'s clock). */
  #lastEnd = -Infinity;
  #lastDuration = 0;

  constructor(debounceMs: number, flush: () => void, options: { spacing?: number; now?: () => number } = {}) {
    this.#debounceMs = debounceMs;
    this.#flush = flush;
    this.#spacing = options.spacing ?? 4;
    this.#now = options.now ?? (() => performance.now());
  }

  /** How long the next push waits if a change comes now. */
  get delayMs(): number {
    const quietUntil = this.#lastEnd + this.#spacing * this.#lastDuration;
    return Math.max(this.#debounceMs, quietUntil - this.#now());
  }

  schedule(): void {
    if (this.#closed || this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#closed) return;
      const start = this.#now();
      try {
        this.#flush();
      } finally {
        this.#lastEnd = this.#now();
        this.#lastDuration = this.#lastEnd - start;
      }
    }, this.delayMs);
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
