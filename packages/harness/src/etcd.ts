import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { trackChild } from './child-registry';
import { findFreePorts } from './free-port';
import { httpRequest } from './http-client';

/** One etcd member started by `startEtcd`. */
export interface EtcdMember {
  readonly name: string;
  /** `http://127.0.0.1:PORT`, what clients (the control plane's --etcd-endpoints) use. */
  readonly clientUrl: string;
  readonly running: boolean;
  /** SIGKILLs this member (for failover tests); close() still cleans up. */
  kill(): Promise<void>;
}

/** A test etcd cluster on loopback: its own ports, its own temporary data directories. */
export interface EtcdCluster {
  readonly members: readonly EtcdMember[];
  /** Every member's client URL, comma-separated, as --etcd-endpoints takes them. */
  readonly endpoints: string;
  /**
   * Every key under `prefix` with its raw value, read through etcd's JSON gateway (what anyone with
   * etcd access would see), from the first running member.
   */
  readPrefix(prefix: string): Promise<readonly { readonly key: string; readonly value: string }[]>;
  /** Writes one raw value, as an operator with `etcdctl put` could (to plant what a build did not write). */
  writeKey(key: string, value: string): Promise<void>;
  /** Stops every member (SIGTERM, then SIGKILL) and removes the data directories. Idempotent. */
  close(): Promise<void>;
}

export interface StartEtcdOptions {
  /** 1 for the correctness tests, 3 for failover tests (default 1). */
  readonly members?: 1 | 3;
  /** How long to wait for every member to answer /health (default 20 s). */
  readonly readyTimeoutMs?: number;
}

/** Where Debian's etcd-server puts the binary; `ETCD_BIN` overrides it. */
const ETCD_BIN = process.env['ETCD_BIN'] ?? 'etcd';
const STOP_GRACE_MS = 3_000;

class Member implements EtcdMember {
  readonly name: string;
  readonly clientUrl: string;
  readonly #child: ChildProcess;
  readonly #output: string[] = [];
  readonly exited: Promise<void>;
  #exited = false;

  constructor(name: string, clientUrl: string, args: readonly string[]) {
    this.name = name;
    this.clientUrl = clientUrl;
    this.#child = spawn(ETCD_BIN, [...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    trackChild(this.#child);
    for (const stream of [this.#child.stdout, this.#child.stderr]) {
      stream?.setEncoding('utf8').on('data', (chunk: string) => {
        this.#output.push(chunk);
        if (this.#output.length > 200) this.#output.shift();
      });
    }
    this.exited = new Promise<void>((resolve) => {
      this.#child.once('close', () => resolve());
      this.#child.once('error', (err) => {
        this.#output.push(`spawn ${ETCD_BIN} failed: ${err.message} (install Debian's etcd-server, or set ETCD_BIN)`);
        resolve();
      });
    }).then(() => {
      this.#exited = true;
    });
  }

  get running(): boolean {
    return !this.#exited;
  }

  tail(): string {
    return this.#output.join('').split('\n').slice(-15).map((l) => `  [${this.name}] ${l}`).join('\n');
  }

  async stop(signal: NodeJS.Signals): Promise<void> {
    if (!this.#exited) this.#child.kill(signal);
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), STOP_GRACE_MS);
    await this.exited;
    clearTimeout(timer);
  }

  kill(): Promise<void> {
    return this.stop('SIGKILL');
  }
}

/**
 * Runs the `etcd` binary directly (never a system service) on free loopback ports with temporary
 * data directories, and resolves once every member reports healthy. On any failure what was
 * started is stopped and removed before the error is thrown.
 */
export async function startEtcd(options: StartEtcdOptions = {}): Promise<EtcdCluster> {
  const count = options.members ?? 1;
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-etcd-'));
  const members: Member[] = [];
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      await Promise.all(members.map((m) => m.stop('SIGTERM')));
      await fs.rm(dir, { recursive: true, force: true });
    })());
  try {
    const ports = await findFreePorts(count * 2);
    const names = Array.from({ length: count }, (_, i) => `etcd${i}`);
    const peerUrl = (i: number): string => `http://127.0.0.1:${ports[count + i]}`;
    const initialCluster = names.map((n, i) => `${n}=${peerUrl(i)}`).join(',');
    names.forEach((name, i) => {
      const clientUrl = `http://127.0.0.1:${ports[i]}`;
      members.push(
        new Member(name, clientUrl, [
          '--name', name,
          '--data-dir', path.join(dir, name),
          '--listen-client-urls', clientUrl,
          '--advertise-client-urls', clientUrl,
          '--listen-peer-urls', peerUrl(i),
          '--initial-advertise-peer-urls', peerUrl(i),
          '--initial-cluster', initialCluster,
          '--initial-cluster-state', 'new',
          '--initial-cluster-token', path.basename(dir),
          '--logger', 'zap',
        ]),
      );
    });
    await Promise.all(members.map((m) => waitHealthy(m, options.readyTimeoutMs ?? 20_000)));
    return { members, endpoints: members.map((m) => m.clientUrl).join(','), readPrefix: (prefix) => readPrefix(members, prefix), writeKey: (key, value) => writeKey(members, key, value), close };
  } catch (err) {
    await close();
    throw err;
  }
}

async function waitHealthy(member: Member, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const port = Number(new URL(member.clientUrl).port);
  while (Date.now() < deadline) {
    if (!member.running) throw new Error(`etcd member ${member.name} exited before it was healthy:\n${member.tail()}`);
    const health = await httpRequest({ port, path: '/health', timeoutMs: 1_000 }).catch(() => undefined);
    if (health?.status === 200 && /"health":\s*"true"/.test(health.body)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`etcd member ${member.name} was not healthy within ${timeoutMs}ms:\n${member.tail()}`);
}

function gatewayPort(members: readonly Member[]): number {
  const member = members.find((m) => m.running);
  if (!member) throw new Error('no etcd member is running');
  return Number(new URL(member.clientUrl).port);
}

async function writeKey(members: readonly Member[], key: string, value: string): Promise<void> {
  const body = JSON.stringify({ key: Buffer.from(key).toString('base64'), value: Buffer.from(value).toString('base64') });
  const res = await httpRequest({ port: gatewayPort(members), method: 'POST', path: '/v3/kv/put', headers: { 'content-type': 'application/json' }, body });
  if (res.status !== 200) throw new Error(`etcd put ${key} answered ${res.status}: ${res.body}`);
}

async function readPrefix(members: readonly Member[], prefix: string): Promise<{ key: string; value: string }[]> {
  // The range end of a prefix: the prefix with its last byte incremented (etcd's own rule).
  const start = Buffer.from(prefix, 'utf8');
  const end = Buffer.from(start);
  end[end.length - 1] = (end[end.length - 1] as number) + 1;
  const res = await httpRequest({
    port: gatewayPort(members),
    method: 'POST',
    path: '/v3/kv/range',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ key: start.toString('base64'), range_end: end.toString('base64') }),
  });
  if (res.status !== 200) throw new Error(`etcd range ${prefix} answered ${res.status}: ${res.body}`);
  const kvs = (JSON.parse(res.body) as { kvs?: { key: string; value?: string }[] }).kvs ?? [];
  return kvs.map((kv) => ({ key: Buffer.from(kv.key, 'base64').toString('utf8'), value: Buffer.from(kv.value ?? '', 'base64').toString('utf8') }));
}
