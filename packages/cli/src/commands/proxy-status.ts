import type { ParsedArgs } from '../args';
import { EXIT } from '../errors';
import { parseOutputFormat, toJson } from '../output/format';
import { proxyViews, renderProxyTable } from '../views/proxy-table';
import type { Command, CommandContext } from './command';
import { expectPositionals, outputFlag } from './shared-flags';

export const proxyStatusCommand: Command = {
  name: 'proxy-status',
  summary: 'show every proxy the control plane knows and whether it runs the newest configuration',
  usage: 'proxy-status [-o table|json]',
  flags: [outputFlag(['table', 'json'])],
  details:
    'STATUS is derived from what the control plane records for each proxy:\n' +
    '  SYNCED        it ACKed the newest version sent to it\n' +
    '  STALE         the newest version was sent but not yet ACKed\n' +
    '  NACKED        it rejected the newest version (LAST NACK says why) and runs an older one\n' +
    '  PENDING       connected, nothing sent yet\n' +
    '  DISCONNECTED  no discovery stream; it keeps serving its last configuration\n' +
    '-o json shows every field as the server reports it, with the full NACK message.',
  async run(ctx: CommandContext, args: ParsedArgs): Promise<number> {
    expectPositionals(args, 0, 0, this.usage, this.name);
    const output = parseOutputFormat(args.string('output'), ['table', 'json'], this.name);
    const { api } = await ctx.connect();
    const views = proxyViews((await api.listProxies()).proxies);
    if (output === 'json') ctx.io.stdout(toJson(views));
    else if (views.length === 0) ctx.io.stderr('No proxies are connected to the control plane.\n');
    else ctx.io.stdout(renderProxyTable(views, ctx.io.now()));
    return EXIT.ok;
  },
};
