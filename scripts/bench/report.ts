/**
 * The results as Markdown: one table per workload with a column per configuration and the
 * Weft/direct and Weft/nginx ratios. Cells with several figures (p50 / p90 / p99 / max) get
 * ratios figure by figure.
 */
import type { ConfigName } from './configuration';
import type { LoadFigures } from './parse';
import { MEASURES, type Measure, type SlotResult, type Usage, type Workload } from './slots';

/** Idle RSS (kB) of each proxy at one moment without traffic, per configuration and protocol side. */
export type IdleRss = Partial<Record<ConfigName, { client: number; serverHttp: number; serverGrpc: number }>>;

/** An idle RSS reading and what it is (`1 s after warm-up`): each becomes a row. */
export interface IdleReading {
  readonly when: string;
  readonly rss: IdleRss;
}

type Cell = readonly number[] | undefined;
interface Row {
  readonly figure: string;
  readonly digits: number;
  readonly cells: Readonly<Record<ConfigName, Cell>>;
  /** Ratios make no sense for differences (added latency). */
  readonly ratios?: boolean;
}

const CONFIGS: readonly ConfigName[] = ['direct', 'nginx', 'weft'];
const TITLES: Readonly<Record<Workload, string>> = { '1k': '1 KiB HTTP/1.1 GET', '16k': '16 KiB HTTP/1.1 GET', grpc: 'gRPC unary over h2c (64-byte messages)' };

function format(values: Cell, digits: number): string {
  if (!values || values.length === 0 || values.some((v) => !Number.isFinite(v))) return '—';
  return values.map((v) => v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })).join(' / ');
}

function ratio(a: Cell, b: Cell): string {
  if (!a || !b || a.length !== b.length) return '—';
  const r = a.map((v, i) => v / (b[i] as number));
  return r.every(Number.isFinite) ? r.map((v) => `${v.toFixed(2)}×`).join(' / ') : '—';
}

function byConfig(f: (c: ConfigName) => Cell): Record<ConfigName, Cell> {
  return { direct: f('direct'), nginx: f('nginx'), weft: f('weft') };
}

/** The larger of each figure across cells (peak RSS over a workload's slots). */
function peak(cells: readonly Cell[]): Cell {
  const present = cells.filter((c): c is readonly number[] => c !== undefined);
  return present.length === 0 ? undefined : (present[0] as readonly number[]).map((_, i) => Math.max(...present.map((c) => c[i] as number)));
}

function rowLine(row: Row): string {
  const cells = CONFIGS.map((c) => format(row.cells[c], row.digits));
  const ratios = row.ratios === false ? ['', ''] : [ratio(row.cells.weft, row.cells.direct), ratio(row.cells.weft, row.cells.nginx)];
  return `| ${row.figure} | ${cells.join(' | ')} | ${ratios.join(' | ')} |`;
}

export function renderTables(results: readonly SlotResult[], idle: readonly IdleReading[], workloads: readonly Workload[]): string {
  const out: string[] = [];
  for (const workload of workloads) {
    const slot = (config: ConfigName, measure: Measure): SlotResult | undefined => results.find((r) => r.config === config && r.workload === workload && r.measure === measure);
    const at = (c: ConfigName, pick: (r: SlotResult) => Cell, measure: Measure): Cell => ((r) => (r ? pick(r) : undefined))(slot(c, measure));
    const per = (pick: (r: SlotResult) => Cell, measure: Measure): Record<ConfigName, Cell> => byConfig((c) => at(c, pick, measure));
    const fig = (f: (x: LoadFigures) => number[]) => (r: SlotResult): Cell => f(r.figures);
    const pair = (u: (r: SlotResult) => readonly (Usage | undefined)[], f: (x: Usage) => number) => (r: SlotResult): Cell => {
      const us = u(r);
      return us.every((x) => x !== undefined) && us.length > 0 ? us.map((x) => f(x as Usage)) : undefined;
    };
    const sides = (r: SlotResult): (Usage | undefined)[] => (r.client || r.server ? [r.client, r.server] : []);
    const both = (r: SlotResult): Cell => (r.client && r.server ? [r.client.cpuPer1000 + r.server.cpuPer1000] : undefined);
    const added = (measure: Measure): Record<ConfigName, Cell> => {
      const base = slot('direct', measure)?.figures;
      const diff = (r: SlotResult): Cell => (base && r.config !== 'direct' ? [r.figures.p50 - base.p50, r.figures.p90 - base.p90, r.figures.p99 - base.p99] : undefined);
      return per(diff, measure);
    };
    const idleCell = (rss: IdleRss) => (c: ConfigName): Cell => {
      const i = rss[c];
      return i ? [i.client / 1024, (workload === 'grpc' ? i.serverGrpc : i.serverHttp) / 1024] : undefined;
    };
    const rows: Row[] = [
      { figure: 'max throughput (closed loop), req/s', digits: 0, cells: per(fig((x) => [x.rate]), 'max') },
      { figure: 'latency at max throughput, p50 / p99, ms', digits: 2, cells: per(fig((x) => [x.p50, x.p99]), 'max') },
      ...([500, 2000] as const).flatMap((rate): Row[] => [
        { figure: `at ${rate} req/s (open loop): achieved req/s`, digits: 0, cells: per(fig((x) => [x.rate]), rate) },
        { figure: `at ${rate} req/s: p50 / p90 / p99 / max, ms`, digits: 2, cells: per(fig((x) => [x.p50, x.p90, x.p99, x.max]), rate) },
        { figure: `at ${rate} req/s: added over direct, p50 / p90 / p99, ms`, digits: 2, cells: added(rate), ratios: false },
        { figure: `at ${rate} req/s: CPU s per 1000 req, both proxies`, digits: 3, cells: per(both, rate) },
        { figure: `at ${rate} req/s: CPU s per 1000 req, client / server proxy`, digits: 3, cells: per(pair(sides, (u) => u.cpuPer1000), rate) },
      ]),
      { figure: 'at max: CPU s per 1000 req, client / server proxy', digits: 3, cells: per(pair(sides, (u) => u.cpuPer1000), 'max') },
      { figure: 'at 500 req/s: CPU s per 1000 req, Weft control plane', digits: 4, cells: per(pair((r) => r.others, (u) => u.cpuPer1000), 500), ratios: false },
      { figure: 'peak RSS under load (any slot), client / server proxy, MB', digits: 1, cells: byConfig((c) => peak(MEASURES.map((m) => at(c, pair(sides, (u) => u.peakRssKb / 1024), m)))) },
      ...idle.map((i): Row => ({ figure: `idle RSS ${i.when}, client / server proxy, MB`, digits: 1, cells: byConfig(idleCell(i.rss)) })),
      { figure: 'errors (all three slots)', digits: 0, cells: byConfig((c) => [results.filter((r) => r.config === c && r.workload === workload).reduce((n, r) => n + r.figures.errors, 0)]), ratios: false },
      { figure: 'unanswered when a fixed-rate slot ended (sent, not failed)', digits: 0, cells: byConfig((c) => [results.filter((r) => r.config === c && r.workload === workload).reduce((n, r) => n + r.figures.unanswered, 0)]), ratios: false },
    ];
    out.push(`### ${TITLES[workload]}`, '', '| figure | direct | nginx pair | Weft pair | Weft/direct | Weft/nginx |', '| --- | ---: | ---: | ---: | ---: | ---: |', ...rows.map(rowLine), '');
  }
  return out.join('\n');
}
