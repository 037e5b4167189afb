import { writeJsonAtomic } from './data-dir';

/**
 * Serializes writes of one JSON file. The content is captured when `write` is called, and writes
 * land in call order, so the file always ends up with the newest state even when writes overlap.
 */
export class JsonFileWriter {
  readonly #file: string;
  #queue: Promise<void> = Promise.resolve();

  constructor(file: string) {
    this.#file = file;
  }

  write(value: unknown): Promise<void> {
    const text = structuredClone(value);
    const run = this.#queue.then(() => writeJsonAtomic(this.#file, text));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Resolves when every write issued so far has finished (successfully or not). */
  async flush(): Promise<void> {
    await this.#queue;
  }
}
