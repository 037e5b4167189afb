import { DEFAULT_NAMESPACE, JOIN_TOKEN_ID_RE, JOIN_TOKEN_PREFIX, parseDuration, parseJoinToken, type TokenInfo } from '@weft/api';
import type { ParsedArgs } from '../args';
import { EXIT, UsageError } from '../errors';
import { parseOutputFormat, relativeTime, toJson } from '../output/format';
import { renderTable } from '../output/table';
import type { Command, CommandContext } from './command';
import { checkName, expectPositionals, outputFlag } from './shared-flags';

function ttlSeconds(text: string | undefined, command: string): number {
  if (text === undefined) return 0; // the control plane's default
  const ms = parseDuration(text);
  if (ms === undefined || ms <= 0) throw new UsageError(`--ttl "${text}" is not a positive duration such as 30m, 24h or 7d`, command);
  return Math.ceil(ms / 1000);
}

/**
 * One sidecar per token unless told otherwise (docs/security.md says why). Sent explicitly rather
 * than left to the server, so that a control plane from before this default agrees.
 */
const DEFAULT_MAX_USES = 1;

/** `--max-uses N|unlimited` as the request's two fields. */
function maxUses(text: string | undefined, command: string): { maxUses: number; unlimitedUses: boolean } {
  if (text === undefined) return { maxUses: DEFAULT_MAX_USES, unlimitedUses: false };
  if (text === 'unlimited') return { maxUses: 0, unlimitedUses: true };
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > 2 ** 31 - 1) {
    throw new UsageError(`--max-uses "${text}" must be a whole number >= 1, or "unlimited" (any number of sidecars within the TTL)`, command);
  }
  return { maxUses: Number(text), unlimitedUses: false };
}

export const tokenCreateCommand: Command = {
  name: 'token create',
  summary: 'create a join token that lets one sidecar obtain its first certificate',
  usage: 'token create --service S [--namespace N] [--ttl D] [--max-uses N|unlimited]',
  flags: [
    { name: 'service', value: 'S', description: 'the service (workload identity) the token is bound to (required)' },
    { name: 'namespace', short: 'n', value: 'N', description: `namespace of the service (default "${DEFAULT_NAMESPACE}")` },
    { name: 'ttl', value: 'D', description: 'how long the token is valid, e.g. 30m, 24h (default: the control plane\'s, 24h)' },
    { name: 'max-uses', value: 'N', description: `how many sidecars may join with it, or "unlimited" within the TTL (default ${DEFAULT_MAX_USES})` },
  ],
  details:
    'Only the token is printed on stdout, so scripts can capture it; details go to stderr.\n' +
    'A token lets one sidecar join by default: a leaked token is then worth at most one certificate,\n' +
    'and a second join with it is refused. A sidecar keeps its key in memory only, so a restarted\n' +
    'sidecar needs a new token (or one created with --max-uses N or unlimited, with a short --ttl).\n\n' +
    'Example:\n  TOKEN=$(weftctl token create --service orders)\n  weft-sidecar --service orders --token "$TOKEN" ...',
  async run(ctx: CommandContext, args: ParsedArgs): Promise<number> {
    expectPositionals(args, 0, 0, this.usage, this.name);
    const serviceText = args.string('service');
    if (serviceText === undefined) throw new UsageError('--service is required', this.name);
    const service = checkName(serviceText, 'service', this.name);
    const namespace = checkName(args.string('namespace') ?? DEFAULT_NAMESPACE, 'namespace', this.name);
    const request = { service, namespace, ttlSeconds: ttlSeconds(args.string('ttl'), this.name), ...maxUses(args.string('max-uses'), this.name) };

    const { api } = await ctx.connect();
    const response = await api.createToken(request);
    ctx.io.stdout(`${response.token}\n`);
    const expires = response.expiresAtMs
      ? `, valid until ${new Date(response.expiresAtMs).toISOString()} (${relativeTime(response.expiresAtMs, ctx.io.now())})`
      : '';
    const uses = request.unlimitedUses ? ', any number of uses' : `, at most ${request.maxUses} use${request.maxUses === 1 ? '' : 's'}`;
    ctx.io.stderr(`token for ${response.spiffeId || `${namespace}/${service}`}${expires}${uses}\n`);
    return EXIT.ok;
  },
};

/** ROOT columns show this much of a fingerprint: enough to tell roots apart at a glance. */
const SHORT_FINGERPRINT = 12;

export const tokenListCommand: Command = {
  name: 'token list',
  summary: 'list join tokens: id, identity, state, uses and expiry (never the secret)',
  usage: 'token list [-o table|json]',
  flags: [outputFlag(['table', 'json'])],
  details:
    'STATE is valid, expired, exhausted (--max-uses reached) or revoked. ROOT is the root the token\n' +
    'pins on first contact: after a root rotation, tokens that pin the old root no longer work.\n' +
    'Expired tokens are listed for 7 days after they expire.',
  async run(ctx: CommandContext, args: ParsedArgs): Promise<number> {
    expectPositionals(args, 0, 0, this.usage, this.name);
    const output = parseOutputFormat(args.string('output'), ['table', 'json'], this.name);
    const { api } = await ctx.connect();
    const { tokens } = await api.listTokens();
    if (output === 'json') ctx.io.stdout(toJson(tokens));
    else if (tokens.length === 0) ctx.io.stderr('No join tokens. Create one with `weftctl token create --service S`.\n');
    else ctx.io.stdout(renderTokenTable(tokens, ctx.io.now()));
    return EXIT.ok;
  },
};

export function renderTokenTable(tokens: readonly TokenInfo[], nowMs: number): string {
  return renderTable(
    ['ID', 'IDENTITY', 'STATE', 'USES', 'EXPIRES', 'ROOT'],
    tokens.map((t) => [
      t.id,
      `${t.service}.${t.namespace}`,
      t.state,
      `${t.uses}/${t.maxUses || '-'}`,
      relativeTime(t.expiresAtMs, nowMs),
      t.rootFingerprint ? t.rootFingerprint.slice(0, SHORT_FINGERPRINT) : '-',
    ]),
  );
}

export const tokenRevokeCommand: Command = {
  name: 'token revoke',
  summary: 'make a join token unusable at once',
  usage: 'token revoke ID|TOKEN',
  flags: [],
  details:
    'ID is the token id from `weftctl token list` (the third field of the token); the whole token, as\n' +
    '`token create` printed it, is accepted too (only its id is sent). Certificates the token\n' +
    'already obtained stay valid until they expire; `weftctl proxy remove PROXY_ID` stops their renewal.\n\n' +
    'Examples:\n  weftctl token revoke 3f9a0c1d2b4e6f70\n  weftctl token revoke "$TOKEN"',
  async run(ctx: CommandContext, args: ParsedArgs): Promise<number> {
    const [text] = expectPositionals(args, 1, 1, this.usage, this.name);
    const id = tokenIdOf(text as string, this.name);
    const { api } = await ctx.connect();
    const { token } = await api.revokeToken(id);
    const who = token ? ` (${token.spiffeId})` : '';
    ctx.io.stdout(`token ${id} revoked${who}\n`);
    return EXIT.ok;
  },
};

/** The id from either form an operator has at hand; the secret is never sent nor repeated. */
function tokenIdOf(text: string, command: string): string {
  const trimmed = text.trim();
  if (JOIN_TOKEN_ID_RE.test(trimmed)) return trimmed;
  const parts = parseJoinToken(trimmed);
  if (parts) return parts.id;
  const what = trimmed.startsWith(`${JOIN_TOKEN_PREFIX}.`) ? 'the argument starts like a join token but is not a whole one' : `"${trimmed}" is not a token id`;
  throw new UsageError(`${what}: give the 16-hex id that \`weftctl token list\` shows, or the token exactly as \`weftctl token create\` printed it`, command);
}
