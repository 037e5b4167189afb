/**
 * CPU time and memory of the proxy processes, read from /proc. The parsing and the arithmetic are
 * pure functions (unit-tested); `ProcessSet` reads the files.
 */
import * as fs from 'node:fs';
import { execFileSync } from 'node:child_process';

/** What /proc/<pid>/stat says that we use. */
export interface ProcStat {
  readonly pid: number;
  readonly ppid: number;
  /** utime + stime, in clock ticks, of every thread of the process. */
  readonly cpuTicks: number;
  /** stime alone: the part spent in the kernel (syscalls, TLS-free socket work, wake-ups). */
  readonly systemTicks: number;
}

/**
 * Parses one /proc/<pid>/stat line. The command name (field 2) sits in parentheses and may hold
 * spaces and parentheses itself, so fields are counted from the last `)`.
 */
export function parseProcStat(text: string): ProcStat {
  const close = text.lastIndexOf(')');
  if (close < 0) throw new Error(`not a /proc/<pid>/stat line: ${JSON.stringify(text.slice(0, 80))}`);
  const pid = Number(text.slice(0, text.indexOf('(')).trim());
  // After ")": state(3) ppid(4) pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime(14) stime(15)
  const rest = text.slice(close + 2).trim().split(/\s+/);
  const field = (n: number): number => Number(rest[n - 3]);
  return { pid, ppid: field(4), cpuTicks: field(14) + field(15), systemTicks: field(15) };
}

/** `VmRSS` or `VmHWM` from /proc/<pid>/status, in kB (NaN when absent). */
export function parseStatusKb(text: string, key: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

/** CPU seconds spent per 1000 completed requests; numerically the same as vCPU per 1000 req/s. */
export function cpuSecondsPer1000(ticksBefore: number, ticksAfter: number, clockTicksPerSecond: number, requests: number): number {
  if (requests <= 0) return NaN;
  return ((ticksAfter - ticksBefore) / clockTicksPerSecond / requests) * 1000;
}

/** Clock ticks per second (USER_HZ), as utime/stime count them. */
export function clockTicksPerSecond(): number {
  try {
    const value = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return value > 0 ? value : 100;
  } catch {
    return 100; // Linux's USER_HZ everywhere that matters
  }
}

function readStat(pid: number): ProcStat | undefined {
  try {
    return parseProcStat(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined; // it exited
  }
}

function readRssKb(pid: number): number {
  try {
    return parseStatusKb(fs.readFileSync(`/proc/${pid}/status`, 'utf8'), 'VmRSS');
  } catch {
    return 0;
  }
}

/** `pid` and its direct children (an nginx master and its workers). */
export function withChildren(pid: number): number[] {
  const pids = [pid];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readStat(Number(name));
    if (stat?.ppid === pid) pids.push(stat.pid);
  }
  return pids;
}

/**
 * One proxy as the table counts it: a process and, for nginx, its workers. CPU is the sum of
 * utime+stime; RSS the sum of the members' resident sets (nginx workers share little with the
 * master once they have touched their pages; the sum slightly overstates shared text).
 */
export class ProcessSet {
  readonly name: string;
  readonly pids: readonly number[];

  constructor(name: string, pids: readonly number[]) {
    this.name = name;
    this.pids = pids;
  }

  cpuTicks(): number {
    return this.pids.reduce((sum, pid) => sum + (readStat(pid)?.cpuTicks ?? 0), 0);
  }

  systemTicks(): number {
    return this.pids.reduce((sum, pid) => sum + (readStat(pid)?.systemTicks ?? 0), 0);
  }

  rssKb(): number {
    return this.pids.reduce((sum, pid) => sum + readRssKb(pid), 0);
  }
}

/** Polls the RSS of some process sets until stopped and keeps each one's peak. */
export class RssSampler {
  readonly #peaks = new Map<ProcessSet, number>();
  readonly #timer: NodeJS.Timeout;

  constructor(sets: readonly ProcessSet[], everyMs = 100) {
    const sample = (): void => {
      for (const set of sets) this.#peaks.set(set, Math.max(this.#peaks.get(set) ?? 0, set.rssKb()));
    };
    sample();
    this.#timer = setInterval(sample, everyMs);
  }

  /** Stops sampling; the peak RSS of each set, in kB. */
  stop(): Map<ProcessSet, number> {
    clearInterval(this.#timer);
    return this.#peaks;
  }
}
