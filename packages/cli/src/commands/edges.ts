import type { Edge } from '@weft/api';
import type { ParsedArgs } from '../args';
import { EXIT } from '../errors';
import { parseOutputFormat, relativeTime, toJson } from '../output/format';
import { renderTable } from '../output/table';
import { missingProxies } from '../observe/proxy-answers';
import type { Command, CommandContext } from './command';
import { expectPositionals, outputFlag } from './shared-flags';

/** One caller -> callee pair, both sides' views folded together. */
export interface EdgeRow {
  readonly source: string;
  readonly destination: string;
  readonly sourceIdentity: string;
  readonly destinationIdentity: string;
  /** Every observation of the pair was mTLS. */
  readonly mtls: boolean;
  readonly requests: number;
  readonly connections: number;
  readonly lastSeenMs: number;
  /** inbound, outbound, or both: which sidecars saw it. */
  readonly seenBy: string;
}

export const edgesCommand: Command = {
  name: 'edges',
  summary: 'who talked to whom in the last 10 minutes, with identities and whether it was mTLS',
  usage: 'edges [-o table|json]',
  flags: [outputFlag(['table', 'json'])],
  details:
    'Source -> destination pairs the proxies saw (requests and TCP connections). The source identity\n' +
    'is the one the caller proved with its certificate (inbound) or its sidecar holds (outbound); a\n' +
    'caller without a certificate (PERMISSIVE) shows as unknown and not mTLS.',
  async run(ctx: CommandContext, args: ParsedArgs): Promise<number> {
    expectPositionals(args, 0, 0, this.usage, this.name);
    const output = parseOutputFormat(args.string('output'), ['table', 'json'], this.name);
    const { api } = await ctx.connect();
    const res = await api.edges();
    const rows = foldEdges(res.edges);
    ctx.io.stderr(missingProxies(res.proxies));
    if (output === 'json') {
      ctx.io.stdout(toJson({ edges: rows, proxies: res.proxies }));
      return EXIT.ok;
    }
    const now = ctx.io.now();
    ctx.io.stdout(
      rows.length === 0
        ? 'no traffic in the last 10 minutes\n'
        : renderTable(
            ['SRC', 'DST', 'SRC_ID', 'DST_ID', 'MTLS', 'REQUESTS', 'TCP_CONN', 'LAST_SEEN'],
            rows.map((r) => [r.source, r.destination, r.sourceIdentity || '-', r.destinationIdentity || '-', r.mtls ? '✓' : '✗', String(r.requests), String(r.connections), relativeTime(r.lastSeenMs, now)]),
          ),
    );
    return EXIT.ok;
  },
};

/**
 * A meshed call is seen twice, by the caller's sidecar (outbound) and the callee's (inbound): one
 * row per pair, identities from whichever side knows them, mTLS only if every side says so. Counts
 * are the inbound side's when it saw the pair (what arrived), else the outbound side's.
 */
export function foldEdges(edges: readonly Edge[]): EdgeRow[] {
  const rows = new Map<string, { r: Omit<EdgeRow, 'seenBy'>; sides: Set<string>; inbound: { requests: number; connections: number }; outbound: { requests: number; connections: number } }>();
  for (const e of edges) {
    const key = `${e.source}\n${e.destination}`;
    let row = rows.get(key);
    if (!row) {
      row = { r: { source: e.source, destination: e.destination, sourceIdentity: '', destinationIdentity: '', mtls: true, requests: 0, connections: 0, lastSeenMs: 0 }, sides: new Set(), inbound: { requests: 0, connections: 0 }, outbound: { requests: 0, connections: 0 } };
      rows.set(key, row);
    }
    const side = e.direction === 'inbound' ? row.inbound : row.outbound;
    side.requests += Number(e.requests);
    side.connections += Number(e.connections);
    row.sides.add(e.direction);
    row.r = {
      ...row.r,
      sourceIdentity: row.r.sourceIdentity || e.sourceIdentity,
      destinationIdentity: row.r.destinationIdentity || e.destinationIdentity,
      mtls: row.r.mtls && e.mtls,
      lastSeenMs: Math.max(row.r.lastSeenMs, Number(e.lastSeenMs)),
    };
  }
  return [...rows.values()]
    .map(({ r, sides, inbound, outbound }) => {
      const counts = sides.has('inbound') ? inbound : outbound;
      return { ...r, requests: counts.requests, connections: counts.connections, seenBy: [...sides].sort().join(',') };
    })
    .sort((a, b) => a.source.localeCompare(b.source) || a.destination.localeCompare(b.destination));
}
