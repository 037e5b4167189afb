/**
 * Holds the current value of something that changes as a whole (a config snapshot, an identity)
 * and tells subscribers when it is replaced. Readers take `current` once per request and keep
 * using that object, so a request finishes on the snapshot it started with.
 */
export class Watch<T> {
  #value: T | undefined;
  readonly #listeners = new Set<(value: T) => void>();

  constructor(initial?: T) {
    this.#value = initial;
  }

  /** The newest value, or undefined before the first one arrived. */
  get current(): T | undefined {
    return this.#value;
  }

  set(value: T): void {
    this.#value = value;
    for (const listener of [...this.#listeners]) listener(value);
  }

  /** Calls `listener` on every later value; returns a function that unsubscribes. */
  subscribe(listener: (value: T) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Resolves with the current value, or the first one set. */
  next(): Promise<T> {
    if (this.#value !== undefined) return Promise.resolve(this.#value);
    return new Promise((resolve) => {
      const off = this.subscribe((v) => {
        off();
        resolve(v);
      });
    });
  }
}
