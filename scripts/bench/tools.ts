/**
 * The programs the benchmark drives, installed with apt-get when missing (Debian package names),
 * and a description of the machine for the report.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';

const PACKAGES = { wrk: 'wrk', h2load: 'nghttp2-client', nginx: 'nginx', openssl: 'openssl', hey: 'hey' } as const;
export type Tool = keyof typeof PACKAGES;
/** What the benchmark itself drives. */
const BENCH_TOOLS: readonly Tool[] = ['wrk', 'h2load', 'nginx', 'openssl'];

function has(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

/** Installs whatever of `tools` (by default wrk, h2load, nginx and openssl) is missing; throws with what to do if it cannot. */
export function ensureTools(log: (text: string) => void, tools: readonly Tool[] = BENCH_TOOLS): void {
  const missing = tools.filter((c) => !has(c) && !fs.existsSync(`/usr/sbin/${c}`));
  if (missing.length === 0) return;
  const packages = missing.map((c) => PACKAGES[c]);
  if (process.getuid?.() !== 0) throw new Error(`missing ${missing.join(', ')}: run \`sudo apt-get install -y ${packages.join(' ')}\` and start the benchmark again`);
  log(`installing ${packages.join(' ')} with apt-get`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: ['ignore', 'ignore', 'inherit'], env });
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages], { stdio: ['ignore', 'ignore', 'inherit'], env });
}

function firstLine(command: string, args: readonly string[]): string {
  const r = spawnSync(command, args, { encoding: 'utf8' });
  return `${r.stdout ?? ''}${r.stderr ?? ''}`.split('\n')[0]?.trim() ?? '?';
}

/** The machine and program versions, one `key: value` per line. */
export function describeMachine(): string[] {
  const cpuModel = /model name\s*:\s*(.*)/.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? os.cpus()[0]?.model ?? '?';
  const load = os.loadavg().map((n) => n.toFixed(2)).join(' ');
  return [
    `CPU: ${os.availableParallelism()} vCPU (nproc), ${cpuModel}`,
    `memory: ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    `kernel: ${os.type()} ${os.release()}`,
    `node: ${process.version}`,
    `nginx: ${firstLine('nginx', ['-v']).replace(/^nginx version: /, '')}`,
    `wrk: ${firstLine('wrk', ['--version']).split(' ').slice(0, 2).join(' ')}`,
    `h2load: ${firstLine('h2load', ['--version'])}`,
    `load average at start (1/5/15 min): ${load}`,
  ];
}
