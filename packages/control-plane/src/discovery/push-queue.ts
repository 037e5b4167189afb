/**
 * Coalesces bursts of changes into one push. The first change opens a window of `debounceMs`;
 * changes inside it ride along; the push runs when the window closes. The window is never
 * extended, so a steady stream of changes still pushes every `debounceMs` instead of starving.
 */
export class PushQueue {
  readonly #debounceMs: number;
  readonly #flush: () => void;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(debounceMs: number, flush: () => void) {
    this.#debounceMs = debounceMs;
    this.#flush = flush;
  }

  schedule(): void {
    if (this.#closed || this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (!this.#closed) this.#flush();
    }, this.#debounceMs);
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
