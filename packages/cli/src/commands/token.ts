import { DEFAULT_NAMESPACE, parseDuration } from '@weft/api';
import type { ParsedArgs } from '../args';
import { EXIT, UsageError } from '../errors';
import { relativeTime } from '../output/format';
import type { Command, CommandContext } from './command';
import { checkName, expectPositionals } from './shared-flags';

function ttlSeconds(text: string | undefined, command: string): number {
  if (text === undefined) return 0; // the control plane's default
  const ms = parseDuration(text);
  if (ms === undefined || ms <= 0) throw new UsageError(`--ttl "${text}" is not a positive duration such as 30m, 24h or 7d`, command);
  return Math.ceil(ms / 1000);
}

function maxUses(text: string | undefined, command: string): number {
  if (text === undefined) return 0; // no limit within the TTL
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > 2 ** 31 - 1) {
    throw new UsageError(`--max-uses "${text}" must be a whole number >= 1`, command);
  }
  return Number(text);
}

export const tokenCreateCommand: Command = {
  name: 'token create',
  summary: 'create a join token that lets one sidecar obtain its first certificate',
  usage: 'token create --service S [--namespace N] [--ttl D] [--max-uses N]',
  flags: [
    { name: 'service', value: 'S', description: 'the service (workload identity) the token is bound to (required)' },
    { name: 'namespace', short: 'n', value: 'N', description: `namespace of the service (default "${DEFAULT_NAMESPACE}")` },
    { name: 'ttl', value: 'D', description: 'how long the token is valid, e.g. 30m, 24h (default: the control plane\'s, 24h)' },
    { name: 'max-uses', value: 'N', description: 'how many certificates it may obtain (default: no limit within the TTL)' },
  ],
  details:
    'Only the token is printed on stdout, so scripts can capture it; details go to stderr.\n\n' +
    'Example:\n  TOKEN=$(weftctl token create --service orders)\n  weft-sidecar --service orders --token "$TOKEN" ...',
  async run(ctx: CommandContext, args: ParsedArgs): Promise<number> {
    expectPositionals(args, 0, 0, this.usage, this.name);
    const serviceText = args.string('service');
    if (serviceText === undefined) throw new UsageError('--service is required', this.name);
    const service = checkName(serviceText, 'service', this.name);
    const namespace = checkName(args.string('namespace') ?? DEFAULT_NAMESPACE, 'namespace', this.name);
    const request = { service, namespace, ttlSeconds: ttlSeconds(args.string('ttl'), this.name), maxUses: maxUses(args.string('max-uses'), this.name) };

    const { api } = await ctx.connect();
    const response = await api.createToken(request);
    ctx.io.stdout(`${response.token}\n`);
    const expires = response.expiresAtMs
      ? `, valid until ${new Date(response.expiresAtMs).toISOString()} (${relativeTime(response.expiresAtMs, ctx.io.now())})`
      : '';
    const uses = request.maxUses ? `, at most ${request.maxUses} use${request.maxUses === 1 ? '' : 's'}` : '';
    ctx.io.stderr(`token for ${response.spiffeId || `${namespace}/${service}`}${expires}${uses}\n`);
    return EXIT.ok;
  },
};
