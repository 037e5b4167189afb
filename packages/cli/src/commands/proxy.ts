import type { AdminApi } from '../admin-client';
import type { ParsedArgs } from '../args';
import { CliError, EXIT, UsageError } from '../errors';
import { relativeTime } from '../output/format';
import type { Command, CommandContext } from './command';
import { expectPositionals } from './shared-flags';

/** A full proxy id (a UUID); anything shorter is taken as a prefix, as `proxy-status` prints 8 characters. */
const FULL_ID_LENGTH = 36;

export const proxyRemoveCommand: Command = {
  name: 'proxy remove',
  summary: 'stop renewing one proxy\'s certificate and end its discovery stream',
  usage: 'proxy remove PROXY_ID',
  flags: [],
  details:
    'PROXY_ID is the full id from `weftctl proxy-status -o json`, or a unique prefix of it (the table\n' +
    'shows 8 characters). Every certificate the proxy was issued is refused for renewal and discovery,\n' +
    'and its endpoint is withdrawn at once. Its current certificate keeps working between sidecars\n' +
    'until it expires (there is no revocation list): keep certificateTTL short. If no other proxy\n' +
    'should join with the token it used, revoke that too (`weftctl token revoke ID`).\n\n' +
    'Example:\n  weftctl proxy remove 5c1e2a9b',
  async run(ctx: CommandContext, args: ParsedArgs): Promise<number> {
    const [given] = expectPositionals(args, 1, 1, this.usage, this.name);
    const text = (given as string).trim();
    if (!/^[0-9A-Za-z._:-]{4,253}$/.test(text)) throw new UsageError(`"${text}" is not a proxy id (at least 4 characters; \`weftctl proxy-status -o json\` lists them)`, this.name);
    const { api } = await ctx.connect();
    const proxyId = text.length >= FULL_ID_LENGTH ? text : await resolvePrefix(api, text);
    const removed = await api.removeProxy(proxyId);
    const serials = removed.revokedSerials.length;
    const expires = removed.lastCertificateExpiresAtMs
      ? `; its certificate stops working at ${new Date(removed.lastCertificateExpiresAtMs).toISOString()} (${relativeTime(removed.lastCertificateExpiresAtMs, ctx.io.now())})`
      : '';
    ctx.io.stdout(`proxy ${removed.proxyId} (${removed.spiffeId || 'unknown identity'}) removed: ${serials} certificate${serials === 1 ? '' : 's'} revoked${expires}\n`);
    if (removed.tokenIds.length > 0) {
      ctx.io.stderr(`It joined with join token ${removed.tokenIds.join(', ')}; if no other proxy should join with it, run \`weftctl token revoke ${removed.tokenIds[0]}\`.\n`);
    }
    return EXIT.ok;
  },
};

/** Expands a prefix to the one proxy id that starts with it, or says why it cannot. */
async function resolvePrefix(api: AdminApi, prefix: string): Promise<string> {
  const matches = (await api.listProxies()).proxies.map((p) => p.proxyId).filter((id) => id.startsWith(prefix));
  if (matches.length === 1) return matches[0] as string;
  if (matches.length === 0) {
    // Not listed (gone for a while, say): the control plane may still know it from its certificates.
    return prefix;
  }
  throw new CliError('WEFT_ERR_AMBIGUOUS', `${matches.length} proxies start with "${prefix}" (${matches.join(', ')}): give more of the id`);
}
