import { checkCa } from '../check/check-ca';
import { checkControlPlane } from '../check/check-control-plane';
import { checkProxies } from '../check/check-proxies';
import { renderChecks, type CheckResult } from '../check/check-result';
import type { ParsedArgs } from '../args';
import { EXIT, UsageError } from '../errors';
import { toJson } from '../output/format';
import type { Command, CommandContext } from './command';
import { expectPositionals } from './shared-flags';

export const checkCommand: Command = {
  name: 'check',
  summary: 'check that the control plane, the CA and every proxy are healthy (exit 1 if not)',
  usage: 'check [-o text|json]',
  flags: [{ name: 'output', short: 'o', value: 'FORMAT', description: 'output format: text, json (default text)' }],
  details:
    'Checks, each a ✓ (ok), ⚠ (warning, does not fail) or ✗ (failure, with a hint) line:\n' +
    '  control plane  reachable with this configuration; ready (its HTTP /ready); this host\'s clock\n' +
    '                 against the control plane\'s (proxies do not report their clock)\n' +
    '  CA             every root of the trust bundle and the signing intermediate valid; a warning\n' +
    '                 under 30 days before expiry\n' +
    '  proxies        every proxy connected, SYNCED (a NACK is shown with its message), holding an\n' +
    '                 unexpired certificate, and ready\n\n' +
    'Exit codes: 0 when nothing failed (warnings allowed), 1 when a check failed, 2 usage error.',
  async run(ctx: CommandContext, args: ParsedArgs): Promise<number> {
    expectPositionals(args, 0, 0, this.usage, this.name);
    const output = args.string('output') ?? 'text';
    if (output !== 'text' && output !== 'json') throw new UsageError(`-o ${output}: must be one of text, json`, this.name);
    const { api, config } = await ctx.connect();
    const now = (): number => ctx.io.now();
    const controlPlane = await checkControlPlane(api, config.config.endpoint, now);
    const results: CheckResult[] = [...controlPlane.results];
    if (controlPlane.reachable) {
      results.push(...checkCa(await api.caStatus(), now()));
      results.push(...checkProxies((await api.listProxies()).proxies, now()));
    }
    const ok = !results.some((r) => r.status === 'fail');
    ctx.io.stdout(output === 'json' ? toJson({ ok, checks: results }) : renderChecks(results));
    return ok ? EXIT.ok : EXIT.failed;
  },
};
