import { execFile } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { promisify } from 'node:util';
import { runProgram, type RunResult } from './run-node';

const run = promisify(execFile);

/**
 * A network namespace joined to this one by a veth pair, so that a test can be a caller from
 * another address (not loopback) without touching any real network: the pair's two ends are the
 * only members of a private /30 in 10.250.0.0/16.
 */
export interface NetnsPeer {
  /** The namespace's name (`ip netns`). */
  readonly name: string;
  /** This namespace's end of the pair: what a server here binds for the peer to reach it. */
  readonly hostAddress: string;
  /** The other end, inside the namespace: the caller's address as a server here sees it. */
  readonly peerAddress: string;
  /** Runs Node.js inside the namespace (`nodeArgs`: a script or `-e CODE`, then its arguments) and collects its output. */
  runNode(nodeArgs: readonly string[], timeoutMs?: number): Promise<RunResult>;
  /** Removes the pair and the namespace. Idempotent. */
  close(): Promise<void>;
}

/** Why a NetnsPeer cannot be made here (undefined when it can): it needs root and `ip` (iproute2). */
export async function netnsUnavailable(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'network namespaces need root';
  try {
    await run('ip', ['netns', 'list']);
    return undefined;
  } catch (err) {
    return `\`ip netns\` does not work here (install iproute2): ${(err as Error).message}`;
  }
}

let count = 0;

export async function createNetnsPeer(): Promise<NetnsPeer> {
  count += 1;
  const tag = `${process.pid % 100_000}${String.fromCharCode(96 + (count % 26))}`;
  const name = `weft-test-${tag}`;
  const hostIf = `wft${tag}h`;
  const peerIf = `wft${tag}p`;
  // A random /30 so that suites running at once do not collide.
  const base = randomInt(0, 1 << 14) * 4;
  const net = `10.250.${base >> 8}`;
  const hostAddress = `${net}.${(base & 0xff) + 1}`;
  const peerAddress = `${net}.${(base & 0xff) + 2}`;
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    // Deleting one end of a veth pair deletes both; either may not exist after a failed setup.
    await run('ip', ['link', 'del', hostIf]).catch(() => undefined);
    await run('ip', ['netns', 'del', name]).catch(() => undefined);
  };
  try {
    await run('ip', ['netns', 'add', name]);
    await run('ip', ['link', 'add', hostIf, 'type', 'veth', 'peer', 'name', peerIf]);
    await run('ip', ['link', 'set', peerIf, 'netns', name]);
    await run('ip', ['addr', 'add', `${hostAddress}/30`, 'dev', hostIf]);
    await run('ip', ['link', 'set', hostIf, 'up']);
    await run('ip', ['netns', 'exec', name, 'ip', 'addr', 'add', `${peerAddress}/30`, 'dev', peerIf]);
    await run('ip', ['netns', 'exec', name, 'ip', 'link', 'set', peerIf, 'up']);
  } catch (err) {
    await close();
    throw err;
  }
  return {
    name,
    hostAddress,
    peerAddress,
    runNode: (nodeArgs, timeoutMs) => runProgram('ip', ['netns', 'exec', name, process.execPath, ...nodeArgs], timeoutMs ? { timeoutMs } : {}),
    close,
  };
}
