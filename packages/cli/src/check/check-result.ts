/** One line of `weftctl check`: ✓ ok, ⚠ warn (does not fail the run), ✗ fail. */
export interface CheckResult {
  /** The section it belongs to: `control plane`, `CA`, `proxies`. */
  readonly group: string;
  readonly status: 'ok' | 'warn' | 'fail';
  readonly message: string;
  /** What to do about it (warn and fail only). */
  readonly hint?: string;
}

const MARK = { ok: '✓', warn: '⚠', fail: '✗' } as const;

export function renderChecks(results: readonly CheckResult[]): string {
  let out = '';
  let group = '';
  for (const r of results) {
    if (r.group !== group) {
      out += `${out ? '\n' : ''}${r.group}\n`;
      group = r.group;
    }
    out += `  ${MARK[r.status]} ${r.message}\n`;
    if (r.hint) out += `      hint: ${r.hint}\n`;
  }
  const failed = results.filter((r) => r.status === 'fail').length;
  const warned = results.filter((r) => r.status === 'warn').length;
  out += failed > 0 ? `\n✗ ${failed} check${failed === 1 ? '' : 's'} failed${warned ? `, ${warned} warning${warned === 1 ? '' : 's'}` : ''}\n` : `\n✓ all checks passed${warned ? ` (${warned} warning${warned === 1 ? '' : 's'})` : ''}\n`;
  return out;
}
