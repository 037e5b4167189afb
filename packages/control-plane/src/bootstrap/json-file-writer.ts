import { writeJsonAtomic } from './data-dir';

/**
 * Serializes writes of one JSON file. The file always ends up with the newest state even when
 * writes overlap. Calls made while a write is waiting for its turn join it, so a burst (a fleet
 * joining or renewing at once) costs a couple of writes, not one per call; each call resolves
 * once its state (or a newer one) is on disk.
 */
export class JsonFileWriter {
  readonly #file: string;
  #queue: Promise<void> = Promise.resolve();
  /** Makes the content of the next write; replaced by every call. */
  #produce: () => unknown = () => undefined;
  /** The write that has not started yet; later calls ride along with it. */
  #waiting: Promise<void> | undefined;

  constructor(file: string) {
    this.#file = file;
  }

  /** Writes `value` as it is now (it is copied: changing it afterwards changes nothing written). */
  write(value: unknown): Promise<void> {
    const copy = structuredClone(value);
    return this.#enqueue(() => copy);
  }

  /**
   * Writes what `produce` returns when the write begins: the newest state, built once per file
   * write however many calls ride along. For a caller whose state grows with the fleet (the
   * certificate ledger, the join tokens), copying it on every call made a burst of N calls cost
   * O(N^2); `produce` must return the state as of when it runs.
   */
  writeLatest(produce: () => unknown): Promise<void> {
    return this.#enqueue(produce);
  }

  #enqueue(produce: () => unknown): Promise<void> {
    this.#produce = produce;
    if (this.#waiting) return this.#waiting;
    const run = this.#queue.then(() => {
      // From here on, calls start the next write: this one takes the newest state as it begins.
      this.#waiting = undefined;
      return writeJsonAtomic(this.#file, this.#produce());
    });
    this.#waiting = run;
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Resolves when every write issued so far has finished (successfully or not). */
  async flush(): Promise<void> {
    await this.#queue;
  }
}
