/**
 * What the request path reads from a cancellation: the part of `AbortSignal` the layers use, so
 * that a real AbortSignal (tests, the TCP forwarder) fits as well as a `Cancel`.
 */
export interface CancelSignal {
  readonly aborted: boolean;
  readonly reason: unknown;
  addEventListener(type: 'abort', listener: () => void, options?: { readonly once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/**
 * A request's cancellation: the client left, or a deadline passed. It replaces an
 * AbortController per request and per deadline: Node's controller builds an EventTarget (and its
 * listener bookkeeping) for every request, measurable on a proxy's hot path, where a request has
 * at most a handful of listeners. Listeners run once, in the order they were added; `abort` only
 * takes effect the first time.
 */
export class Cancel implements CancelSignal {
  #reason: unknown = undefined;
  #aborted = false;
  // Most requests have one listener at a time (the hop in flight): it takes no array.
  #first: (() => void) | undefined;
  #more: Array<() => void> | undefined;

  get aborted(): boolean {
    return this.#aborted;
  }

  get reason(): unknown {
    return this.#reason;
  }

  /** The signal side, for symmetry with AbortController (`controller.signal`). */
  get signal(): CancelSignal {
    return this;
  }

  addEventListener(_type: 'abort', listener: () => void): void {
    if (this.#aborted) return; // like an EventTarget: an event already dispatched is not replayed
    if (this.#first === undefined && this.#more === undefined) this.#first = listener;
    else (this.#more ??= []).push(listener);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    if (this.#first === listener) {
      this.#first = undefined;
      return;
    }
    const list = this.#more;
    if (!list) return;
    const i = list.indexOf(listener);
    if (i >= 0) list.splice(i, 1);
  }

  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    const first = this.#first;
    const more = this.#more;
    this.#first = undefined;
    this.#more = undefined;
    if (first) run(first);
    if (more) for (const listener of more) run(listener);
  }
}

function run(listener: () => void): void {
  try {
    listener();
  } catch (err) {
    // As an EventTarget does: the other listeners still run, the error surfaces uncaught.
    process.nextTick(() => {
      throw err;
    });
  }
}
