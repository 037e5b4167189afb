import * as fs from 'node:fs/promises';
import { ControlPlaneError } from '../errors';
import { isRecord, readTextFile, writeFileAtomic } from './data-dir';

/** What a journal file starts with: which kind of journal and which format. */
export interface JournalHeader {
  readonly kind: string;
  readonly formatVersion: number;
}

/** What was read: the entries in order, and whether the file ended in a torn (half-written) line. */
export interface JournalContents<T> {
  readonly entries: T[];
  readonly tornTail: boolean;
}

/**
 * An append-only file of JSON lines: a header line, then one entry per line. A record costs one
 * `write` and one `fdatasync` on a file kept open, shared by every record made while the previous
 * one was being written (group commit), instead of rewriting a whole file that grows with the
 * fleet. A crash can leave at most the last line half written: reading drops it (its record was
 * never acknowledged, because acknowledgement waits for the sync). The owner rewrites the file
 * (`rewrite`) with what is still live when the journal has grown well past it.
 */
export class JsonLinesJournal<T> {
  readonly #file: string;
  readonly #header: JournalHeader;
  #handle: fs.FileHandle | undefined;
  /** Lines waiting for the next write, and who waits for them to be durable. */
  #pending: string[] = [];
  #waiters: { resolve: () => void; reject: (err: Error) => void }[] = [];
  /** The write (or rewrite) in progress; everything else queues behind it. */
  #busy: Promise<void> = Promise.resolve();
  #writing = false;
  /** Entry lines in the file now (the header excluded), for the owner's decision to rewrite. */
  lines = 0;

  private constructor(file: string, header: JournalHeader) {
    this.#file = file;
    this.#header = header;
  }

  /**
   * Reads `file` (an absent file reads as empty), then rewrites it with `keep(entries)`: that
   * drops a torn tail and whatever the owner no longer needs, and leaves the file open for appends.
   */
  static async open<T>(file: string, header: JournalHeader, isEntry: (value: unknown) => value is T, keep: (entries: T[]) => readonly T[]): Promise<{ journal: JsonLinesJournal<T>; entries: readonly T[] }> {
    const contents = await readJournal(file, header, isEntry);
    const journal = new JsonLinesJournal<T>(file, header);
    const entries = keep(contents?.entries ?? []);
    await journal.rewrite(entries);
    return { journal, entries };
  }

  /** Resolves once `entry` is on disk (fdatasync), together with every entry appended meanwhile. */
  append(entry: T): Promise<void> {
    this.#pending.push(`${JSON.stringify(entry)}\n`);
    const durable = new Promise<void>((resolve, reject) => this.#waiters.push({ resolve, reject }));
    if (!this.#writing) this.#startWrite();
    return durable;
  }

  /** Replaces the file's content with `entries` (atomically: temp file, sync, rename) after pending appends. */
  rewrite(entries: readonly T[]): Promise<void> {
    const run = this.#busy.then(async () => {
      const body = entries.map((e) => `${JSON.stringify(e)}\n`).join('');
      // Appends wait behind this, so the old handle is idle; if the write fails it stays in use.
      await writeFileAtomic(this.#file, `${JSON.stringify(this.#header)}\n${body}`);
      await this.#handle?.close();
      this.#handle = await fs.open(this.#file, 'a', 0o600);
      this.lines = entries.length;
    });
    this.#busy = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {
    await this.#busy;
    await this.#handle?.close();
    this.#handle = undefined;
  }

  #startWrite(): void {
    this.#writing = true;
    const run = this.#busy.then(async () => {
      // Lines appended while this one waited for its turn ride along; later ones start the next write.
      const lines = this.#pending;
      const waiters = this.#waiters;
      this.#pending = [];
      this.#waiters = [];
      this.#writing = false;
      try {
        if (!this.#handle) throw new Error('the journal is closed');
        await this.#handle.write(lines.join(''));
        await this.#handle.datasync();
        this.lines += lines.length;
        for (const w of waiters) w.resolve();
      } catch (err) {
        const failure = new ControlPlaneError('WEFT_ERR_DATA_DIR', `cannot append to ${this.#file}: ${(err as Error).message}`, { cause: err });
        for (const w of waiters) w.reject(failure);
      }
    });
    this.#busy = run.catch(() => undefined);
  }
}

/**
 * Reads a journal, or undefined when the file does not exist. A half-written last line (a crash
 * during an append) is dropped; any other line that does not read is an error that names the
 * file and line, never a silent reset.
 */
export async function readJournal<T>(file: string, header: JournalHeader, isEntry: (value: unknown) => value is T): Promise<JournalContents<T> | undefined> {
  const text = await readTextFile(file);
  if (text === undefined) return undefined;
  const lines = text.split('\n');
  // A complete file ends with a newline, so the last piece is empty; anything else there is torn.
  const last = lines.pop() as string;
  const tornTail = last !== '';
  const entries: T[] = [];
  for (const [i, line] of lines.entries()) {
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      throw corrupt(file, i + 1, `not JSON (${(err as Error).message})`);
    }
    if (i === 0) {
      if (!isRecord(value) || value['kind'] !== header.kind) throw corrupt(file, 1, `not a ${header.kind} header`);
      const version = value['formatVersion'];
      if (typeof version !== 'number' || version > header.formatVersion) {
        throw corrupt(file, 1, `format version ${String(version)}, newer than this control plane reads (${header.formatVersion}): run the newer version`);
      }
      continue;
    }
    if (!isEntry(value)) throw corrupt(file, i + 1, 'not an entry of this journal');
    entries.push(value);
  }
  return { entries, tornTail };
}

function corrupt(file: string, line: number, what: string): ControlPlaneError {
  return new ControlPlaneError('WEFT_ERR_DATA_DIR', `${file} line ${line} is ${what}: restore the file from a backup or remove it to start empty`);
}
