import { parseDuration } from '@weft/api';
import type { ParsedArgs } from '../args';
import { EXIT, UsageError } from '../errors';
import { parseOutputFormat, toJson } from '../output/format';
import { renderTable } from '../output/table';
import { missingProxies } from '../observe/proxy-answers';
import { serviceArg } from '../observe/service-arg';
import { formatLatency, formatRate, formatRps, STAT_VIEWS, statRows, type StatRow, type StatView } from '../observe/stat-rows';
import type { Command, CommandContext } from './command';
import { expectPositionals, NAMESPACE_FLAG, outputFlag } from './shared-flags';

const MAX_WINDOW_MS = 600_000;

export const statCommand: Command = {
  name: 'stat',
  summary: 'golden metrics (success rate, requests/s, latency percentiles, TCP) per service, route or proxy',
  usage: 'stat [services|routes|proxies] [NAME] [--window 1m] [--from SERVICE] [--to SERVICE] [-o table|json]',
  flags: [
    { name: 'window', value: 'DURATION', description: 'how far back to count (default 1m, at most 10m; rounded up to 10 s)' },
    { name: 'from', value: 'SERVICE', description: 'only requests from this service, as its sidecars saw them (outbound)' },
    { name: 'to', value: 'SERVICE', description: 'only requests to this service' },
    NAMESPACE_FLAG,
    outputFlag(['table', 'json']),
  ],
  details:
    'Asks every connected proxy, through the control plane, for its counts of the window (nothing is\n' +
    'collected centrally until you ask). services (default): what each service\'s own sidecars served\n' +
    '(inbound); with --from, what the caller\'s sidecars saw (outbound, including requests that never\n' +
    'reached it). routes: per Route rule, from the callers\' side. proxies: per proxy, inbound.\n' +
    'Success: a response that is not a 5xx and whose gRPC status, if any, is OK. Percentiles come from\n' +
    'merged histograms (buckets 19% apart). Proxies that did not answer are listed on stderr.',
  async run(ctx: CommandContext, args: ParsedArgs): Promise<number> {
    const positionals = expectPositionals(args, 0, 2, this.usage, this.name);
    let view: StatView = 'services';
    let rest = positionals;
    if (STAT_VIEWS.includes(positionals[0] as StatView)) {
      view = positionals[0] as StatView;
      rest = positionals.slice(1);
    } else if (positionals.length > 1) throw new UsageError(`"${positionals[0]}" is not a view: use services, routes or proxies`, this.name);
    const output = parseOutputFormat(args.string('output'), ['table', 'json'], this.name);
    const windowMs = windowOf(args.string('window'), this.name);
    const filter = {
      ...(rest[0] === undefined ? {} : { name: view === 'proxies' ? rest[0] : (serviceArg(rest[0], args, this.name) as string) }),
      ...optional('from', serviceArg(args.string('from'), args, this.name)),
      ...optional('to', serviceArg(args.string('to'), args, this.name)),
    };
    const { api } = await ctx.connect();
    const res = await api.stat({ windowMs, byProxy: view === 'proxies', timeoutMs: 0 });
    const summary = res.summary ?? { windowMs: 0, traffic: [], tcp: [] };
    const rows = statRows(summary, view, filter);
    ctx.io.stderr(missingProxies(res.proxies));
    if (output === 'json') ctx.io.stdout(toJson({ view, windowMs: summary.windowMs, rows, proxies: res.proxies }));
    else ctx.io.stdout(rows.length === 0 ? `no traffic in the last ${Math.round(windowMs / 1000)}s\n` : renderStat(view, rows));
    return EXIT.ok;
  },
};

export function windowOf(text: string | undefined, command: string): number {
  if (text === undefined) return 60_000;
  const ms = parseDuration(text);
  if (ms === undefined || ms <= 0 || ms > MAX_WINDOW_MS) throw new UsageError(`--window ${text}: must be a duration from 1s to 10m, such as 30s or 5m`, command);
  return ms;
}

const optional = <K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> => (value === undefined ? {} : ({ [key]: value } as Record<K, string>));

function renderStat(view: StatView, rows: readonly StatRow[]): string {
  const lead = view === 'routes' ? ['SERVICE', 'ROUTE'] : view === 'proxies' ? ['PROXY', 'SERVICE'] : ['SERVICE'];
  const leadOf = (r: StatRow): string[] => (view === 'routes' ? [r.service, r.route || '[default]'] : view === 'proxies' ? [(r.proxyId ?? '').slice(0, 8), r.service] : [r.service]);
  return renderTable(
    [...lead, 'REQUESTS', 'SUCCESS', 'RPS', 'LATENCY_P50', 'LATENCY_P95', 'LATENCY_P99', ...(view === 'routes' ? [] : ['TCP_CONN'])],
    rows.map((r) => [
      ...leadOf(r),
      String(r.requests),
      formatRate(r.successRate),
      formatRps(r.rps),
      formatLatency(r.latencyMsP50),
      formatLatency(r.latencyMsP95),
      formatLatency(r.latencyMsP99),
      ...(view === 'routes' ? [] : [String(r.tcpOpen)]),
    ]),
  );
}
