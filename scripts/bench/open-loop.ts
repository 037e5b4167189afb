/**
 * `node scripts/dist/bench/open-loop.js --port P --host H --path /x --rate R --seconds S`: an
 * open-loop HTTP/1.1 load generator. Request i is due at start + i/R whatever the answers do; its
 * latency is measured from that due time, not from when it could actually be sent, so a stall
 * shows in the percentiles instead of being left out (no coordinated omission). Keep-alive
 * connections are opened on demand when every open one is busy (cap 64, the size of the
 * proxies' upstream pools; beyond it requests wait, and the wait counts). Requests still unanswered `graceMs` after the last one was due are
 * cut off: each counts as an error and enters the percentiles with its age at the cut (a lower
 * bound), so an overloaded proxy neither stretches the slot nor looks faster than it is.
 * Prints one JSON line `{"msg":"result", ...LoadFigures}`.
 *
 * Why not `hey -q`: each hey worker waits for its answer before its next tick and drops missed
 * ticks, so a slow answer delays the requests behind it and they are measured from when they
 * were finally sent.
 */
import { Agent, request } from 'node:http';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { latencyFigures, type LoadFigures } from './parse';

export interface OpenLoopOptions {
  readonly port: number;
  readonly host: string;
  readonly path: string;
  readonly rate: number;
  readonly seconds: number;
  /** How long after the last request was due answers are still awaited (default 2000). */
  readonly graceMs?: number;
  /** Called with each answered request's due time (performance.now() clock) and latency, for diagnosis. */
  readonly onAnswer?: (dueAt: number, latencyMs: number) => void;
}

export function openLoop(o: OpenLoopOptions): Promise<LoadFigures> {
  const agent = new Agent({ keepAlive: true, maxSockets: 64, scheduling: 'lifo' });
  const total = Math.round(o.rate * o.seconds);
  const intervalMs = 1000 / o.rate;
  const latencies: number[] = [];
  const pending = new Map<number, () => void>(); // due time of each request in flight -> abort
  let errors = 0;
  let unanswered = 0;
  let sent = 0;
  let settled = false;
  const t0 = performance.now();
  return new Promise((resolve) => {
    const finish = (): void => {
      if (settled) return;
      settled = true;
      clearTimeout(cutoff);
      const now = performance.now();
      const answered = latencies.length;
      for (const [dueAt, abort] of pending) {
        latencies.push(now - dueAt);
        unanswered += 1;
        abort();
      }
      agent.destroy();
      latencies.sort((a, b) => a - b);
      const seconds = (now - t0) / 1000;
      resolve({ requests: answered, errors, unanswered, seconds, rate: answered / Math.max(seconds, o.seconds), ...latencyFigures(latencies) });
    };
    const cutoff = setTimeout(finish, o.seconds * 1000 + (o.graceMs ?? 2_000));
    const send = (dueAt: number): void => {
      const end = (latency: number | undefined): void => {
        if (settled || !pending.delete(dueAt)) return;
        if (latency === undefined) errors += 1;
        else {
          latencies.push(latency);
          o.onAnswer?.(dueAt, latency);
        }
        if (sent === total && pending.size === 0) finish();
      };
      const req = request({ host: '127.0.0.1', port: o.port, path: o.path, agent, headers: { host: o.host } }, (res) => {
        res.resume();
        res.on('end', () => end(res.statusCode === 200 ? performance.now() - dueAt : undefined));
        res.on('error', () => end(undefined));
      });
      req.on('error', () => end(undefined));
      pending.set(dueAt, () => req.destroy());
      req.end();
    };
    const tick = (): void => {
      const due = Math.min(total, Math.floor((performance.now() - t0) / intervalMs) + 1);
      while (sent < due) send(t0 + sent++ * intervalMs);
      if (sent < total) setTimeout(tick, Math.max(0, t0 + sent * intervalMs - performance.now()));
    };
    tick();
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { port: { type: 'string' }, host: { type: 'string', default: 'localhost' }, path: { type: 'string', default: '/' }, rate: { type: 'string' }, seconds: { type: 'string' } },
  });
  const [port, rate, seconds] = [Number(values.port), Number(values.rate), Number(values.seconds)];
  if (!(port > 0 && rate > 0 && seconds > 0)) throw new Error('--port, --rate and --seconds must be positive numbers');
  const figures = await openLoop({ port, host: String(values.host), path: String(values.path), rate, seconds });
  process.stdout.write(`${JSON.stringify({ msg: 'result', ...figures })}\n`);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`open-loop: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
}
