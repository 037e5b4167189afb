import * as fs from 'node:fs/promises';
import * as os from 'node:os';

/**
 * Everything a command touches outside itself. Commands never use `process` directly, so they run
 * in-process in tests with captured output and a fake environment.
 */
export interface Io {
  stdout(text: string): void;
  /** stdout is a terminal: live views may redraw in place; to a pipe or file they print plain text. */
  readonly stdoutIsTerminal: boolean;
  stderr(text: string): void;
  /** Reads stdin, but never more than `maxBytes`: past that it stops and throws `InputTooLarge`. */
  readStdin(maxBytes: number): Promise<string>;
  /** With `maxBytes`, the file's size is checked before it is read (`InputTooLarge` if over). */
  readFile(path: string, maxBytes?: number): Promise<string>;
  /** Writes (or replaces) a file, as `weftctl inject -o FILE` does. */
  writeFile(path: string, text: string): Promise<void>;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly homedir: string;
  now(): number;
}

/** An input larger than its cap; `bytes` is its size, or how much was read before giving up. */
export class InputTooLarge extends Error {
  readonly bytes: number;
  /** False when `bytes` is only a lower bound (stdin is not read to its end). */
  readonly exact: boolean;

  constructor(bytes: number, exact: boolean) {
    super(`input of ${exact ? '' : 'more than '}${bytes} bytes is over the limit`);
    this.bytes = bytes;
    this.exact = exact;
  }
}

async function readCapped(stream: NodeJS.ReadableStream, maxBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    total += buf.length;
    // Stop at once: the rest of an oversized input is never held in memory.
    if (total > maxBytes) throw new InputTooLarge(maxBytes, false);
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function readFileCapped(path: string, maxBytes: number | undefined): Promise<string> {
  if (maxBytes === undefined) return fs.readFile(path, 'utf8');
  const handle = await fs.open(path, 'r');
  try {
    const { size } = await handle.stat();
    if (size > maxBytes) throw new InputTooLarge(size, true);
    // A file that grows between stat and read (or a pipe, whose size is 0) is still read with a cap.
    return await readCapped(handle.createReadStream({ autoClose: false }), maxBytes);
  } finally {
    await handle.close();
  }
}

export function processIo(): Io {
  return {
    stdout: (text) => void process.stdout.write(text),
    stdoutIsTerminal: process.stdout.isTTY === true,
    stderr: (text) => void process.stderr.write(text),
    readStdin: (maxBytes) => readCapped(process.stdin, maxBytes),
    readFile: (path, maxBytes) => readFileCapped(path, maxBytes),
    writeFile: (path, text) => fs.writeFile(path, text),
    env: process.env,
    homedir: os.homedir(),
    now: () => Date.now(),
  };
}
