import type { ParsedArgs } from '../args';
import { EXIT } from '../errors';
import { parseOutputFormat, toJson } from '../output/format';
import { renderProxyConfigDiff } from '../views/proxy-config-diff';
import { proxyViews, renderProxyTable } from '../views/proxy-table';
import type { Command, CommandContext } from './command';
import { resolveProxy } from './resolve-proxy';
import { expectPositionals, outputFlag } from './shared-flags';

export const proxyStatusCommand: Command = {
  name: 'proxy-status',
  summary: 'show every proxy and whether it runs the newest configuration; with PROXY, what it misses',
  usage: 'proxy-status [PROXY] [-o table|json]',
  flags: [outputFlag(['table', 'json'])],
  details:
    'STATUS is derived from what the control plane records for each proxy:\n' +
    '  SYNCED        it ACKed the newest version sent to it\n' +
    '  STALE         the newest version was sent but not yet ACKed\n' +
    '  NACKED        it rejected the newest version (LAST NACK says why) and runs an older one\n' +
    '  PENDING       connected, nothing sent yet\n' +
    '  DISCONNECTED  no discovery stream; it keeps serving its last configuration\n' +
    '-o json shows every field as the server reports it, with the full NACK message.\n\n' +
    'With PROXY (a proxy id, a unique prefix of one, or SERVICE.NAMESPACE when that service has one\n' +
    'proxy): a unified diff from the snapshot it last ACKed (what it runs) to the one the control plane\n' +
    'would send it now, or "in sync". Resources, endpoints and the trust bundle are listed sorted, so\n' +
    'only real changes show. -o json gives both snapshots as the server sent them.',
  async run(ctx: CommandContext, args: ParsedArgs): Promise<number> {
    const [given] = expectPositionals(args, 0, 1, this.usage, this.name);
    const output = parseOutputFormat(args.string('output'), ['table', 'json'], this.name);
    const { api } = await ctx.connect();
    if (given !== undefined) {
      const config = await api.proxyConfig((await resolveProxy(api, given)).proxyId);
      ctx.io.stdout(output === 'json' ? toJson(config) : renderProxyConfigDiff(config, ctx.io.now()).text);
      return EXIT.ok;
    }
    const views = proxyViews((await api.listProxies()).proxies);
    if (output === 'json') ctx.io.stdout(toJson(views));
    else if (views.length === 0) ctx.io.stderr('No proxies are connected to the control plane.\n');
    else ctx.io.stdout(renderProxyTable(views, ctx.io.now()));
    return EXIT.ok;
  },
};
