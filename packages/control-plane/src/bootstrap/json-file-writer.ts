import { writeJsonAtomic } from './data-dir';

/**
 * Serializes writes of one JSON file. The content is captured when `write` is called, and the
 * file always ends up with the newest state even when writes overlap. Calls made while a write
 * is waiting for its turn join it, so a burst (a fleet renewing at once after a root rotation)
 * costs a couple of writes, not one per call; each call resolves once its state is on disk.
 */
export class JsonFileWriter {
  readonly #file: string;
  #queue: Promise<void> = Promise.resolve();
  #latest: unknown;
  /** The write that has not started yet; later calls ride along with it. */
  #waiting: Promise<void> | undefined;

  constructor(file: string) {
    this.#file = file;
  }

  write(value: unknown): Promise<void> {
    this.#latest = structuredClone(value);
    if (this.#waiting) return this.#waiting;
    const run = this.#queue.then(() => {
      // From here on, calls start the next write: this one takes the newest state as it begins.
      this.#waiting = undefined;
      return writeJsonAtomic(this.#file, this.#latest);
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
