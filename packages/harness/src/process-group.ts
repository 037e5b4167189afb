import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as readline from 'node:readline';
import { trackChild } from './child-registry';

export interface SpawnOptions {
  /** Shown in errors and log files: `control-plane`, `sidecar-orders`. */
  readonly name: string;
  /** A JavaScript file run with this Node.js binary, or with `native` a program run as it is. */
  readonly script: string;
  /** `script` is an executable of its own (Prometheus), not a JavaScript file for Node.js. */
  readonly native?: boolean;
  readonly args?: readonly string[];
  /** Added to this process's environment. */
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
  /** Also append every line to this file (stream name first). */
  readonly logFile?: string;
  /**
   * A command that runs Node.js for us, such as `ip netns exec NS setpriv --reuid=65534 ...`: it
   * must exec the rest of its arguments, so that the pid and signals are Node's own.
   */
  readonly wrapper?: readonly string[];
  /** Lines kept in memory for errors and waitForLog (default 500). */
  readonly bufferLines?: number;
}

export interface LogLine {
  readonly stream: 'stdout' | 'stderr';
  readonly text: string;
  /** The line parsed as a JSON object, when it is one (our processes log JSON lines). */
  readonly json: Readonly<Record<string, unknown>> | undefined;
}

export interface ExitInfo {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

function parseJsonLine(text: string): Record<string, unknown> | undefined {
  if (!text.startsWith('{')) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The Node.js flags a program's `#!/usr/bin/env -S node FLAGS` line asks for, so that running it
 * as `node SCRIPT` starts it as executing it directly would (the sidecar sets its heap sizes there).
 */
export function shebangNodeArgs(script: string): string[] {
  let first = '';
  try {
    first = fs.readFileSync(script, 'utf8').split('\n', 1)[0] ?? '';
  } catch {
    return []; // a missing script fails in spawn, with the error the caller expects
  }
  const match = /^#!\/usr\/bin\/env -S node((?: --?[\w-]+(?:=\S+)?)*)\s*$/.exec(first);
  return match?.[1]?.trim().split(/\s+/).filter((a) => a !== '') ?? [];
}

export function describeExit(exit: ExitInfo): string {
  return exit.signal ? `killed by ${exit.signal}` : `exit code ${exit.code}`;
}

/** One child process with its output kept as lines in a bounded buffer. */
export class ManagedProcess {
  readonly name: string;
  readonly pid: number;
  /** Resolves when the process has exited and its output has been read to the end. */
  readonly exited: Promise<ExitInfo>;
  readonly #child: ChildProcess;
  readonly #lines: LogLine[] = [];
  readonly #max: number;
  readonly #listeners = new Set<(line: LogLine) => void>();
  #exit: ExitInfo | undefined;

  constructor(options: SpawnOptions) {
    this.name = options.name;
    this.#max = options.bufferLines ?? 500;
    const nodeArgs = options.native ? [...(options.args ?? [])] : [...shebangNodeArgs(options.script), options.script, ...(options.args ?? [])];
    const [command, ...prefix] = [...(options.wrapper ?? []), options.native ? options.script : process.execPath];
    this.#child = spawn(command as string, [...prefix, ...nodeArgs], {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    trackChild(this.#child);
    this.pid = this.#child.pid ?? -1;
    const log = options.logFile ? fs.createWriteStream(options.logFile, { flags: 'a' }) : undefined;
    const streams = { stdout: this.#child.stdout, stderr: this.#child.stderr };
    for (const [stream, input] of Object.entries(streams) as ['stdout' | 'stderr', NodeJS.ReadableStream | null][]) {
      if (!input) continue;
      readline.createInterface({ input, crlfDelay: Infinity }).on('line', (text) => {
        log?.write(`${stream} ${text}\n`);
        this.#push({ stream, text, json: parseJsonLine(text) });
      });
    }
    this.exited = new Promise<ExitInfo>((resolve) => {
      // 'close' comes after the last output line; 'error' covers a failed spawn.
      this.#child.once('close', (code, signal) => resolve({ code, signal }));
      this.#child.once('error', () => resolve({ code: null, signal: null }));
    }).then(async (exit) => {
      this.#exit = exit;
      // Flushed before `exited` resolves: whoever stopped the process reads the file next.
      if (log) await new Promise<void>((resolve) => log.end(() => resolve()));
      return exit;
    });
  }

  #push(line: LogLine): void {
    this.#lines.push(line);
    if (this.#lines.length > this.#max) this.#lines.shift();
    for (const listener of this.#listeners) listener(line);
  }

  /** The exit status once the process has exited, else undefined. */
  get exitInfo(): ExitInfo | undefined {
    return this.#exit;
  }

  get running(): boolean {
    return this.#exit === undefined && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  lines(): readonly LogLine[] {
    return [...this.#lines];
  }

  /** The last `n` lines, prefixed with the process name, for error messages. */
  tail(n = 20): string {
    const lines = this.#lines.slice(-n);
    if (lines.length === 0) return `  [${this.name}] (no output)`;
    return lines.map((l) => `  [${this.name} ${l.stream}] ${l.text}`).join('\n');
  }

  /** Calls `listener` with every new line; returns a function that stops it. */
  onLine(listener: (line: LogLine) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  kill(signal: NodeJS.Signals): void {
    if (this.running) this.#child.kill(signal);
  }
}

/** Processes started together and stopped together (a test, the demo). */
export class ProcessGroup {
  readonly #procs = new Set<ManagedProcess>();

  spawn(options: SpawnOptions): ManagedProcess {
    const proc = new ManagedProcess(options);
    this.#procs.add(proc);
    return proc;
  }

  /**
   * Resolves with the first JSON log line (already received or still to come) for which
   * `predicate` is true, e.g. `(e) => e.msg === 'ready'`. Rejects, quoting the last log lines, if
   * the process exits first or `timeoutMs` passes.
   */
  waitForLog(
    proc: ManagedProcess,
    predicate: (entry: Readonly<Record<string, unknown>>, line: LogLine) => boolean,
    timeoutMs = 15_000,
  ): Promise<Readonly<Record<string, unknown>>> {
    const matches = (line: LogLine): boolean => line.json !== undefined && predicate(line.json, line);
    const found = proc.lines().find(matches);
    if (found?.json) return Promise.resolve(found.json);
    return new Promise((resolve, reject) => {
      const finish = (err: Error | undefined, value?: Readonly<Record<string, unknown>>): void => {
        clearTimeout(timer);
        stop();
        if (err) reject(err);
        else resolve(value as Readonly<Record<string, unknown>>);
      };
      const stop = proc.onLine((line) => {
        if (matches(line)) finish(undefined, line.json);
      });
      const timer = setTimeout(
        () => finish(new Error(`timed out after ${timeoutMs}ms waiting for ${proc.name}; last lines:\n${proc.tail()}`)),
        timeoutMs,
      );
      void proc.exited.then((exit) =>
        finish(new Error(`${proc.name} ended (${describeExit(exit)}) before it was ready; last lines:\n${proc.tail()}`)),
      );
    });
  }

  /** Sends `signal`, waits up to `graceMs` for the exit, then SIGKILLs. */
  async stop(proc: ManagedProcess, signal: NodeJS.Signals = 'SIGTERM', graceMs = 5_000): Promise<ExitInfo> {
    if (proc.running) {
      proc.kill(signal);
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), graceMs);
      });
      const first = await Promise.race([proc.exited, timedOut]);
      clearTimeout(timer);
      if (first === 'timeout') proc.kill('SIGKILL');
    }
    const exit = await proc.exited;
    this.#procs.delete(proc);
    return exit;
  }

  /** Stops every process of the group at once (sidecars drain in parallel, not one by one). */
  async stopAll(graceMs = 5_000): Promise<void> {
    await Promise.all([...this.#procs].map((p) => this.stop(p, 'SIGTERM', graceMs)));
  }
}
