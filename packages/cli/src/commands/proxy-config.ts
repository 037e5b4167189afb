import { parse as parseYaml } from 'yaml';
import type { ParsedArgs } from '../args';
import { CliError, EXIT, UsageError } from '../errors';
import { toJson, toYamlDocuments } from '../output/format';
import { proxyConfigDump, renderProxyConfig, type ProxyConfigDump } from '../views/proxy-config-view';
import type { Command, CommandContext } from './command';
import { resolveProxy } from './resolve-proxy';
import { expectPositionals } from './shared-flags';

const FORMATS = ['text', 'json', 'yaml'];

/** Reads a dump `-o json` (or `-o yaml`) wrote; says what is wrong rather than rendering half of it. */
async function readDump(ctx: CommandContext, file: string): Promise<ProxyConfigDump> {
  let text: string;
  try {
    text = await ctx.io.readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CliError('WEFT_ERR_READ', `cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : (code ?? (err as Error).message)}`);
  }
  let dump: unknown;
  try {
    dump = parseYaml(text) as unknown;
  } catch {
    dump = undefined;
  }
  const d = dump as Partial<ProxyConfigDump> | undefined;
  if (!d || typeof d !== 'object' || !d.proxy || !d.certificate || d.config === undefined) {
    throw new CliError('WEFT_ERR_BAD_DUMP', `${file} is not a proxy configuration dump: write one with weftctl proxy-config PROXY -o json > ${file}`);
  }
  return d as ProxyConfigDump;
}

export const proxyConfigCommand: Command = {
  name: 'proxy-config',
  summary: "show the configuration a proxy runs: routes, policies, endpoints, certificate",
  usage: 'proxy-config (PROXY | --file DUMP) [-o text|json|yaml]',
  flags: [
    { name: 'file', value: 'DUMP', description: 'render a dump saved with -o json (or -o yaml) instead of asking the control plane' },
    { name: 'output', short: 'o', value: 'FORMAT', description: 'output format: text, json, yaml (default text)' },
  ],
  details:
    'PROXY is a proxy id, a unique prefix of one (at least 4 characters), or SERVICE.NAMESPACE when\n' +
    'that service has one proxy. What is shown is the snapshot the proxy last ACKed, as the control\n' +
    'plane sent it: that is what it runs (a sidecar compiles a snapshot entirely or NACKs it). The\n' +
    'sidecar\'s own view, with defaults filled in, is /config on its admin port (loopback only).\n' +
    '`weftctl proxy-status PROXY` shows how it differs from what the control plane would send now.\n\n' +
    'Example:\n  weftctl proxy-config inventory.default\n  weftctl proxy-config 5c1e2a9b -o json > dump.json\n  weftctl proxy-config --file dump.json',
  async run(ctx: CommandContext, args: ParsedArgs): Promise<number> {
    const output = args.string('output') ?? 'text';
    if (!FORMATS.includes(output)) throw new UsageError(`-o ${output}: must be one of ${FORMATS.join(', ')}`, this.name);
    const file = args.string('file');
    const [given] = expectPositionals(args, file === undefined ? 1 : 0, file === undefined ? 1 : 0, this.usage, this.name);
    let dump: ProxyConfigDump;
    if (file !== undefined) dump = await readDump(ctx, file);
    else {
      const { api } = await ctx.connect();
      const proxy = await resolveProxy(api, given as string);
      dump = proxyConfigDump(await api.proxyConfig(proxy.proxyId));
    }
    if (output === 'json') ctx.io.stdout(toJson(dump));
    else if (output === 'yaml') ctx.io.stdout(toYamlDocuments([dump]));
    else ctx.io.stdout(renderProxyConfig(dump, ctx.io.now()));
    return EXIT.ok;
  },
};
