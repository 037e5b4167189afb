/**
 * The simulated sidecars, spread over a few worker processes (worker.ts). The parent sends each
 * worker the same request and gathers the answers; every worker is killed on stop(), also when a
 * request failed.
 */
import { fork, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import type { Activity, InitParams, Op, Reply, Request, SignResult, SimSpec } from './messages';

type Params<O extends Op> = Omit<Extract<Request, { op: O }>, 'id' | 'op'>;

class Worker {
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  readonly exited: Promise<void>;
  #next = 1;

  get pid(): number | undefined {
    return this.#child.pid;
  }

  constructor(index: number) {
    this.#child = fork(path.join(__dirname, 'worker.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: ['--max-old-space-size=2048'] });
    this.exited = new Promise((resolve) => this.#child.once('exit', () => resolve()));
    this.#child.on('message', (reply: Reply) => {
      const waiter = this.#pending.get(reply.id);
      this.#pending.delete(reply.id);
      if (!waiter) return;
      if (reply.ok) waiter.resolve(reply.value);
      else waiter.reject(new Error(`worker ${index}: ${reply.error}`));
    });
    void this.exited.then(() => {
      for (const w of this.#pending.values()) w.reject(new Error(`worker ${index} exited`));
      this.#pending.clear();
    });
  }

  request<O extends Op>(op: O, params: Params<O>): Promise<unknown> {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#child.send({ id, op, ...params } as Request);
    });
  }

  async stop(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    const grace = setTimeout(() => this.#child.kill('SIGKILL'), 3_000);
    if (this.#child.connected) await this.request('stop', {}).catch(() => undefined);
    else this.#child.kill('SIGTERM');
    await this.exited;
    clearTimeout(grace);
  }
}

export class Fleet {
  readonly #workers: Worker[];
  readonly size: number;

  private constructor(workers: Worker[], size: number) {
    this.#workers = workers;
    this.size = size;
  }

  /** Forks `workers` processes and gives each its share of `sims` (round robin). */
  static async start(workers: number, init: Omit<InitParams, 'sims'>, sims: readonly SimSpec[]): Promise<Fleet> {
    const fleet = new Fleet(Array.from({ length: workers }, (_, i) => new Worker(i)), sims.length);
    try {
      await Promise.all(fleet.#workers.map((w, i) => w.request('init', { params: { ...init, sims: sims.filter((_, j) => j % workers === i) } })));
      return fleet;
    } catch (err) {
      await fleet.stop();
      throw err;
    }
  }

  async #all<O extends Op>(op: O, params: Params<O>): Promise<unknown[]> {
    return Promise.all(this.#workers.map((w) => w.request(op, params)));
  }

  /** Each worker's list of times, joined; IPC carries NaN (none) as null, so it comes back as NaN. */
  async #times<O extends Op>(op: O, params: Params<O>): Promise<number[]> {
    return timesFromIpc(await this.#all(op, params));
  }

  /** The worker processes, for CPU accounting from /proc. */
  get pids(): number[] {
    return this.#workers.flatMap((w) => (w.pid === undefined ? [] : [w.pid]));
  }

  /** Every sidecar redeems its token at once: when the first call left and the last answer came. */
  async sign(): Promise<SignResult> {
    const results = (await this.#all('sign', {})) as SignResult[];
    return {
      firstSentAt: Math.min(...results.map((r) => r.firstSentAt)),
      lastDoneAt: Math.max(...results.map((r) => r.lastDoneAt)),
      failures: results.flatMap((r) => r.failures),
    };
  }

  /** Opens every stream, `perSecond` in all; resolves with each sidecar's first ACK time once all have one. */
  async connect(perSecond: number): Promise<number[]> {
    return this.#times('connect', { perSecond: perSecond / this.#workers.length });
  }

  async activity(): Promise<Activity> {
    const all = (await this.#all('activity', {})) as Activity[];
    return {
      lastAckAt: Math.max(...all.map((a) => a.lastAckAt)),
      acks: all.reduce((s, a) => s + a.acks, 0),
      connected: all.reduce((s, a) => s + a.connected, 0),
      snapshotBytes: Math.max(...all.map((a) => a.snapshotBytes)),
      bytesReceived: all.reduce((s, a) => s + a.bytesReceived, 0),
      lost: mergeCounts(all.map((a) => a.lost)),
    };
  }

  /** Each sidecar's first ACK of a snapshot at `revision` or later (NaN: none within `timeoutMs`). */
  async ackedRevision(revision: number, timeoutMs: number): Promise<number[]> {
    return this.#times('await-revision', { revision, timeoutMs });
  }

  async markReconnect(): Promise<void> {
    await this.#all('mark-reconnect', {});
  }

  /** Each sidecar's first ACK after markReconnect() (NaN: none within `timeoutMs`). */
  async reconnected(timeoutMs: number): Promise<number[]> {
    return this.#times('await-reconnect', { timeoutMs });
  }

  /** Waits until no sidecar has ACKed anything for `quietMs` (pushes have stopped), up to `timeoutMs`. */
  async settle(quietMs: number, timeoutMs: number): Promise<Activity> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const a = await this.activity();
      if (Date.now() - a.lastAckAt >= quietMs || Date.now() > deadline) return a;
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.#workers.map((w) => w.stop()));
  }
}

/** Lists of times from the workers, joined; anything not a number (NaN arrives as null over IPC's JSON) is NaN. */
export function timesFromIpc(lists: readonly unknown[]): number[] {
  return lists.flatMap((list) => (Array.isArray(list) ? list : [])).map((v) => (typeof v === 'number' ? v : NaN));
}

function mergeCounts(counts: readonly Readonly<Record<string, number>>[]): Record<string, number> {
  const merged: Record<string, number> = {};
  for (const c of counts) for (const [k, n] of Object.entries(c)) merged[k] = (merged[k] ?? 0) + n;
  return merged;
}
