/**
 * Reading what the load generators print. Pure functions, so the unit test (scripts/test) can feed
 * them captured output; the runners call them on the real thing.
 */
import { percentile } from './closed-loop';

/** What one measured slot delivered, whatever generator produced it. */
export interface LoadFigures {
  readonly requests: number;
  /** Non-2xx answers, socket errors, timeouts, failed streams. */
  readonly errors: number;
  /**
   * At a fixed rate: requests still unanswered when the slot ended (they were sent; a proxy that
   * falls behind shows here). Not errors: nothing failed, the slot was over. 0 in a closed loop.
   */
  readonly unanswered: number;
  readonly seconds: number;
  /** Completed requests per second over the slot. */
  readonly rate: number;
  /** Milliseconds; NaN where the generator does not report it. */
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}

const TIME_UNITS: Readonly<Record<string, number>> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `412.34us`, `1.20ms`, `2.00s` (wrk's units) to milliseconds. */
export function parseWrkDuration(text: string): number {
  const m = /^([\d.]+)(us|ms|s|m|h)$/.exec(text.trim());
  if (!m) throw new Error(`not a wrk duration: ${JSON.stringify(text)}`);
  return Number(m[1]) * (TIME_UNITS[m[2] as string] as number);
}

function required(text: string, pattern: RegExp, what: string): RegExpExecArray {
  const m = pattern.exec(text);
  if (!m) throw new Error(`the generator's output has no ${what}:\n${text}`);
  return m;
}

/** `wrk --latency` output: requests, rate, errors, and its latency distribution (50/90/99, max). */
export function parseWrk(text: string): LoadFigures {
  const total = required(text, /(\d+) requests in ([\d.]+\w+),/, 'request count');
  const requests = Number(total[1]);
  const seconds = parseWrkDuration(total[2] as string) / 1000;
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(text)?.[1] ?? 0);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const socketErrors = socket ? socket.slice(1, 5).reduce((n, v) => n + Number(v), 0) : 0;
  const pct = (p: number): number => parseWrkDuration(required(text, new RegExp(`^\\s*${p}%\\s+(\\S+)`, 'm'), `${p}% latency`)[1] as string);
  const latency = required(text, /^\s*Latency\s+\S+\s+\S+\s+(\S+)/m, 'latency line');
  return {
    requests,
    errors: non2xx + socketErrors,
    unanswered: 0,
    seconds,
    rate: Number(required(text, /Requests\/sec:\s+([\d.]+)/, 'Requests/sec')[1]),
    p50: pct(50),
    p90: pct(90),
    p99: pct(99),
    max: parseWrkDuration(latency[1] as string),
  };
}

/** One line of `h2load --log-file`: start (µs since the epoch), status, µs until the response ended. */
export interface H2loadLogEntry {
  readonly startUs: number;
  readonly status: number;
  readonly elapsedUs: number;
}

export function parseH2loadLog(text: string): H2loadLogEntry[] {
  const entries: H2loadLogEntry[] = [];
  for (const line of text.split('\n')) {
    const cells = line.trim().split('\t');
    if (cells.length < 3) continue;
    const [startUs, status, elapsedUs] = cells.map(Number) as [number, number, number];
    if ([startUs, status, elapsedUs].some((n) => !Number.isFinite(n))) continue;
    entries.push({ startUs, status, elapsedUs });
  }
  return entries;
}

/**
 * h2load's summary gives counts and the rate but no percentiles, so those come from its per-request
 * log, which holds answered requests only. Errors: failed streams and 4xx/5xx. At a fixed rate
 * (`openLoop`) the requests still unanswered when the duration ended are counted apart: an
 * overloaded proxy shows there, not in the percentiles. In a closed loop the calls in flight at
 * the end are expected.
 */
export function parseH2load(summary: string, log: readonly H2loadLogEntry[], openLoop: boolean): LoadFigures {
  const finished = required(summary, /finished in ([\d.]+)(\w+), ([\d.]+) req\/s/, '"finished in" line');
  const seconds = (Number(finished[1]) * (TIME_UNITS[finished[2] as string] ?? NaN)) / 1000;
  const counts = required(summary, /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/, 'request counts');
  // `failed` already holds the errored and timed-out streams; 4xx/5xx answers finish "done";
  // requests started but not done when the duration ended were never answered.
  const [started, done, succeeded, failed] = [Number(counts[2]), Number(counts[3]), Number(counts[4]), Number(counts[5])];
  const statusLine = /status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/.exec(summary);
  const refused = statusLine ? Number(statusLine[3]) + Number(statusLine[4]) : 0;
  const latencies = log.filter((e) => e.status >= 200 && e.status < 300).map((e) => e.elapsedUs / 1000);
  latencies.sort((a, b) => a - b);
  return {
    requests: succeeded,
    errors: failed + refused,
    unanswered: openLoop ? started - done : 0,
    seconds,
    rate: Number(finished[3]),
    ...latencyFigures(latencies),
  };
}

/** p50/p90/p99/max of latencies already sorted ascending (ms). */
export function latencyFigures(sorted: readonly number[]): Pick<LoadFigures, 'p50' | 'p90' | 'p99' | 'max'> {
  return {
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted.length > 0 ? (sorted[sorted.length - 1] as number) : NaN,
  };
}
