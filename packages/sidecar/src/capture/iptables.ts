import { spawnSync } from 'node:child_process';
import { WeftError } from '@weft/api';
import { CHAINS, JUMPS, restoreInput, type CapturePlan, type Jump } from './rules';

/** iptables failed, or is missing; the message says what to do. Exit code 1. */
export class IptablesError extends WeftError {
  constructor(code: 'WEFT_ERR_NO_IPTABLES' | 'WEFT_ERR_IPTABLES', message: string) {
    super(code, message);
  }
}

/** Which iptables the namespace uses: the nf_tables or the legacy kernel interface, and its commands. */
export interface Backend {
  readonly name: 'nf_tables' | 'legacy';
  readonly iptables: string;
  readonly restore: string;
  readonly version: string;
}

/**
 * Picks the backend as Istio's init does: the variant that already holds rules in this namespace
 * wins (two backends at once would be read by nobody); with none, whatever `iptables` is.
 */
export function detectBackend(): Backend {
  const plain = run('iptables', ['--version']);
  if (plain.error) throw new IptablesError('WEFT_ERR_NO_IPTABLES', 'no iptables command: install it (Debian: apt-get install iptables) in the image that runs weft-init');
  const variants = [
    { name: 'legacy' as const, iptables: 'iptables-legacy', restore: 'iptables-legacy-restore', save: 'iptables-legacy-save' },
    { name: 'nf_tables' as const, iptables: 'iptables-nft', restore: 'iptables-nft-restore', save: 'iptables-nft-save' },
  ];
  for (const v of variants) {
    const saved = run(v.save, []);
    if (!saved.error && saved.status === 0 && /^-A /m.test(saved.stdout)) return { name: v.name, iptables: v.iptables, restore: v.restore, version: firstLine(run(v.iptables, ['--version']).stdout) };
  }
  const version = firstLine(plain.stdout);
  return { name: version.includes('legacy') ? 'legacy' : 'nf_tables', iptables: 'iptables', restore: 'iptables-restore', version };
}

/** Installs our chains and the jumps to them; a second install replaces the chains and adds no jump. */
export function install(backend: Backend, plan: CapturePlan): string {
  const missing = JUMPS.filter((j) => !hasJump(backend, j));
  const input = restoreInput(plan, missing);
  must(backend, backend.restore, ['--noflush'], input);
  return input;
}

/** Removes exactly what install added: the jumps (every copy), then our chains. Nothing there: no error. */
export function uninstall(backend: Backend): number {
  let removed = 0;
  for (const jump of JUMPS) {
    while (hasJump(backend, jump)) {
      must(backend, backend.iptables, ['-t', 'nat', '-D', jump.chain, ...jump.spec]);
      removed += 1;
    }
  }
  for (const chain of Object.values(CHAINS)) {
    if (run(backend.iptables, ['-t', 'nat', '-S', chain]).status !== 0) continue;
    must(backend, backend.iptables, ['-t', 'nat', '-F', chain]);
    must(backend, backend.iptables, ['-t', 'nat', '-X', chain]);
    removed += 1;
  }
  return removed;
}

function hasJump(backend: Backend, jump: Jump): boolean {
  return run(backend.iptables, ['-t', 'nat', '-C', jump.chain, ...jump.spec]).status === 0;
}

function must(backend: Backend, command: string, args: readonly string[], input?: string): void {
  const r = run(command, args, input);
  if (r.error || r.status !== 0) {
    const why = (r.stderr || r.error?.message || `exit ${r.status}`).trim();
    const hint = /permission denied|not permitted/i.test(why)
      ? 'run weft-init as root (or with CAP_NET_ADMIN) inside the workload\'s network namespace'
      : `check that the ${backend.name} iptables backend works here (\`${backend.iptables} -t nat -S\`)`;
    throw new IptablesError('WEFT_ERR_IPTABLES', `${command} ${args.join(' ')} failed: ${why}; ${hint}`);
  }
}

interface RunResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly error: Error | undefined;
}

function run(command: string, args: readonly string[], input?: string): RunResult {
  const r = spawnSync(command, [...args], { encoding: 'utf8', ...(input === undefined ? {} : { input }), env: { ...process.env, PATH: `${process.env['PATH'] ?? ''}:/usr/sbin:/sbin` } });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', error: r.error };
}

function firstLine(text: string): string {
  return text.split('\n')[0]?.trim() ?? '';
}
