import { isSuccessfulResponse, type TapEvent } from '@weft/api';
import type { ParsedArgs } from '../args';
import { EXIT, UsageError } from '../errors';
import { toJson } from '../output/format';
import { renderTable } from '../output/table';
import { missingProxies } from '../observe/proxy-answers';
import { formatLatency, formatRate } from '../observe/stat-rows';
import { TAP_FLAGS, tapRequestOf } from '../observe/tap-flags';
import type { Command, CommandContext } from './command';
import { expectPositionals } from './shared-flags';

const REFRESH_MS = 2_000;
/** Clear the screen, cursor home. */
const CLEAR_SCREEN = '\x1b[2J\x1b[H';
const ROWS = 20;

interface Path {
  readonly source: string;
  readonly destination: string;
  readonly method: string;
  readonly path: string;
  count: number;
  successes: number;
  bestMs: number;
  worstMs: number;
  lastMs: number;
}

export const topCommand: Command = {
  name: 'top',
  summary: 'the busiest paths right now, from a live tap, refreshed (or once after --duration)',
  usage: 'top [--to S] [--from S] [--path P] [--method M] [--direction D] [--max-rps N] [--duration D] [-o table|json]',
  flags: [...TAP_FLAGS, { name: 'output', short: 'o', value: 'FORMAT', description: 'table (default) or json (with --duration)' }],
  details:
    'A tap (see weftctl tap --help) aggregated by source, destination, method and path: count, success\n' +
    'rate and best, worst and last latency, busiest first. Without --duration it redraws every 2s until\n' +
    'interrupted (when stdout is not a terminal, it prints a plain table every 2s instead); with\n' +
    '--duration it prints the table once at the end. Sampled by --max-rps per proxy.',
  async run(ctx: CommandContext, args: ParsedArgs): Promise<number> {
    expectPositionals(args, 0, 0, this.usage, this.name);
    const output = args.string('output') ?? 'table';
    if (output !== 'table' && output !== 'json') throw new UsageError(`-o ${output}: must be one of table, json`, this.name);
    const req = tapRequestOf(args, this.name);
    if (output === 'json' && req.durationMs === 0) throw new UsageError('-o json needs --duration (it prints once, at the end)', this.name);
    const { api } = await ctx.connect();
    const paths = new Map<string, Path>();
    const live = req.durationMs === 0;
    // On a terminal the table is redrawn in place; to a pipe or a file each interval adds a plain
    // snapshot (a time line, then the table), which a log or `grep` can read.
    const snapshot = ctx.io.stdoutIsTerminal
      ? (): void => ctx.io.stdout(`${CLEAR_SCREEN}${renderTop(paths)}`)
      : (): void => ctx.io.stdout(`${new Date(ctx.io.now()).toISOString()}\n${renderTop(paths)}\n`);
    const redraw = live ? setInterval(snapshot, REFRESH_MS) : undefined;
    try {
      await api.tap(req, (m) => {
        if (m.proxies.length > 0) ctx.io.stderr(missingProxies(m.proxies));
        for (const e of m.events) add(paths, e);
      });
    } finally {
      clearInterval(redraw);
    }
    ctx.io.stdout(output === 'json' ? toJson(sorted(paths)) : renderTop(paths));
    return EXIT.ok;
  },
};

function add(paths: Map<string, Path>, e: TapEvent): void {
  // One row per path as the callers see it: the outbound leg, or the inbound one when only it was tapped.
  const key = `${e.source}\n${e.destination}\n${e.method}\n${e.path}`;
  let p = paths.get(key);
  if (!p) paths.set(key, (p = { source: e.source, destination: e.destination, method: e.method, path: e.path, count: 0, successes: 0, bestMs: Infinity, worstMs: 0, lastMs: 0 }));
  p.count++;
  if (isSuccessfulResponse(e.status, e.grpcStatus)) p.successes++;
  p.bestMs = Math.min(p.bestMs, e.latencyMs);
  p.worstMs = Math.max(p.worstMs, e.latencyMs);
  p.lastMs = e.latencyMs;
}

const sorted = (paths: Map<string, Path>): Path[] => [...paths.values()].sort((a, b) => b.count - a.count || a.path.localeCompare(b.path));

function renderTop(paths: Map<string, Path>): string {
  const rows = sorted(paths).slice(0, ROWS);
  if (rows.length === 0) return 'no matching requests yet\n';
  return renderTable(
    ['SOURCE', 'DESTINATION', 'METHOD', 'PATH', 'COUNT', 'SUCCESS', 'BEST', 'WORST', 'LAST'],
    rows.map((p) => [p.source, p.destination, p.method, p.path, String(p.count), formatRate(p.successes / p.count), formatLatency(p.bestMs), formatLatency(p.worstMs), formatLatency(p.lastMs)]),
  );
}
