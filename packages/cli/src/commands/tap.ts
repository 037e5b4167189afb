import type { TapEvent } from '@weft/api';
import type { ParsedArgs } from '../args';
import { EXIT, UsageError } from '../errors';
import { missingProxies } from '../observe/proxy-answers';
import { formatLatency } from '../observe/stat-rows';
import { TAP_FLAGS, tapRequestOf } from '../observe/tap-flags';
import type { Command, CommandContext } from './command';
import { expectPositionals } from './shared-flags';

export const tapCommand: Command = {
  name: 'tap',
  summary: 'stream live requests (source, destination, method, path, status, latency, identity, mTLS, trace id)',
  usage: 'tap [--to S] [--from S] [--path P] [--method M] [--direction D] [--max-rps N] [--duration D] [-o text|json]',
  flags: [...TAP_FLAGS, { name: 'output', short: 'o', value: 'FORMAT', description: 'text (default), or json: one JSON object per line' }],
  details:
    'The control plane asks every proxy to report finished requests that match, and relays them. Only\n' +
    'the listed fields travel: never headers (no Authorization, no cookies), bodies or query strings.\n' +
    'Each proxy sends at most --max-rps events per second; the rest are counted and reported as\n' +
    'dropped. Proxies that join after the tap started are not tapped.',
  async run(ctx: CommandContext, args: ParsedArgs): Promise<number> {
    expectPositionals(args, 0, 0, this.usage, this.name);
    const output = args.string('output') ?? 'text';
    if (output !== 'text' && output !== 'json') throw new UsageError(`-o ${output}: must be one of text, json`, this.name);
    const req = tapRequestOf(args, this.name);
    const { api } = await ctx.connect();
    let dropped = 0;
    await api.tap(req, (m) => {
      if (m.proxies.length > 0) ctx.io.stderr(missingProxies(m.proxies));
      dropped += Number(m.dropped);
      for (const e of m.events) ctx.io.stdout(output === 'json' ? `${JSON.stringify(e)}\n` : tapLine(e));
    });
    if (dropped > 0) ctx.io.stderr(`${dropped} requests matched but were not shown (over --max-rps)\n`);
    return EXIT.ok;
  },
};

/** One request per line, fields in a fixed order, so `grep` and `awk` work on it. */
export function tapLine(e: TapEvent): string {
  const at = new Date(Number(e.atMs)).toISOString().slice(11, 23);
  const status = e.grpcStatus ? `${e.status} grpc=${e.grpcStatus}` : String(e.status);
  return [
    at,
    e.direction,
    `${e.source} -> ${e.destination}`,
    e.method,
    `${e.authority}${e.path}`,
    status,
    formatLatency(e.latencyMs),
    e.mtls ? 'mTLS' : 'plaintext',
    `peer=${e.peerIdentity || '-'}`,
    `trace=${e.traceId || '-'}`,
    ...(e.route ? [`route=${e.route}`] : []),
    ...(e.errorCode ? [`error=${e.errorCode}`] : []),
    `proxy=${e.proxyId.slice(0, 8)}`,
  ].join(' ') + '\n';
}
