import { weftVersion } from '@weft/api';
import type { ParsedArgs } from '../args';
import { CliError, EXIT } from '../errors';
import { parseOutputFormat, toJson } from '../output/format';
import type { Command, CommandContext } from './command';
import { expectPositionals, outputFlag } from './shared-flags';

/** Before Admin.GetVersion existed, the control plane cannot say its version. */
const UNKNOWN = 'unknown (older than GetVersion)';

export const versionCommand: Command = {
  name: 'version',
  summary: "show weftctl's version and the control plane's, and warn when they differ",
  usage: 'version [-o table|json]',
  flags: [outputFlag(['table', 'json'])],
  details:
    '`weftctl --version` prints weftctl\'s version alone, without contacting the control plane.\n' +
    'Exits 1 when the control plane cannot be reached (after printing weftctl\'s version).',
  async run(ctx: CommandContext, args: ParsedArgs): Promise<number> {
    expectPositionals(args, 0, 0, this.usage, this.name);
    const output = parseOutputFormat(args.string('output'), ['table', 'json'], this.name);
    const client = weftVersion();
    if (output === 'table') ctx.io.stdout(`weftctl        ${client}\n`);
    const { api, config } = await ctx.connect();
    let server: string;
    try {
      server = (await api.version()).version;
    } catch (err) {
      if (!(err instanceof CliError && err.code === 'WEFT_ERR_UNIMPLEMENTED')) throw err;
      server = UNKNOWN;
    }
    if (output === 'json') ctx.io.stdout(toJson({ client, controlPlane: server, endpoint: config.config.endpoint }));
    else ctx.io.stdout(`control plane  ${server} (${config.config.endpoint})\n`);
    if (server !== client) {
      ctx.io.stderr(
        `warning: weftctl ${client} and the control plane ${server} differ: use the weftctl of the control plane's release, ` +
          'or upgrade the older one (the admin API may differ between releases)\n',
      );
    }
    return EXIT.ok;
  },
};
