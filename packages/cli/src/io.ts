import * as fs from 'node:fs/promises';
import * as os from 'node:os';

/**
 * Everything a command touches outside itself. Commands never use `process` directly, so they run
 * in-process in tests with captured output and a fake environment.
 */
export interface Io {
  stdout(text: string): void;
  stderr(text: string): void;
  readStdin(): Promise<string>;
  readFile(path: string): Promise<string>;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly homedir: string;
  now(): number;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}

export function processIo(): Io {
  return {
    stdout: (text) => void process.stdout.write(text),
    stderr: (text) => void process.stderr.write(text),
    readStdin: () => readAll(process.stdin),
    readFile: (path) => fs.readFile(path, 'utf8'),
    env: process.env,
    homedir: os.homedir(),
    now: () => Date.now(),
  };
}
