import { latencyQuantile, mergeLatencyBuckets, type StatSummary, type TrafficCounts } from '@weft/api';

export type StatView = 'services' | 'routes' | 'proxies';
export const STAT_VIEWS: readonly StatView[] = ['services', 'routes', 'proxies'];

/** What narrows the traffic: service names are `service.namespace`. */
export interface StatFilter {
  /** The NAME argument: a destination service (services, routes) or a proxy id prefix (proxies). */
  readonly name?: string;
  readonly from?: string;
  readonly to?: string;
}

/** One line of `weftctl stat`: golden metrics of one service, route or proxy. */
export interface StatRow {
  readonly service: string;
  /** Routes view: the Route rule's name ('' for the default route); proxies view: the proxy id. */
  readonly route?: string;
  readonly proxyId?: string;
  readonly requests: number;
  readonly successes: number;
  /** successes / requests, from 0 to 1; null without requests. */
  readonly successRate: number | null;
  readonly rps: number;
  readonly latencyMsP50: number | null;
  readonly latencyMsP95: number | null;
  readonly latencyMsP99: number | null;
  /** TCP connections open now. */
  readonly tcpOpen: number;
  readonly windowMs: number;
}

/**
 * Which requests a view counts, so each is counted once: a service's own sidecars (inbound) see
 * every request that reached it; with --from, the callers' sidecars (outbound) see the ones that
 * did not too (no endpoint, timeouts). Routes exist only on the caller's side (outbound).
 */
function direction(view: StatView, filter: StatFilter): 'inbound' | 'outbound' {
  return view === 'routes' || filter.from !== undefined ? 'outbound' : 'inbound';
}

export function statRows(summary: StatSummary, view: StatView, filter: StatFilter): StatRow[] {
  const dir = direction(view, filter);
  const keep = (d: string, source: string, destination: string, proxyId: string): boolean =>
    d === dir &&
    (filter.from === undefined || source === filter.from) &&
    (filter.to === undefined || destination === filter.to) &&
    (filter.name === undefined || (view === 'proxies' ? proxyId.startsWith(filter.name) : destination === filter.name));
  const keyOf = (t: { destination: string; proxyId: string; route?: string }): string =>
    view === 'routes' ? `${t.destination}\n${t.route ?? ''}` : view === 'proxies' ? `${t.proxyId}\n${t.destination}` : t.destination;

  const groups = new Map<string, { first: TrafficCounts | undefined; requests: number; successes: number; buckets: number[]; windowMs: number; tcpOpen: number; service: string; route: string; proxyId: string }>();
  const group = (key: string, service: string, route: string, proxyId: string) => {
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { first: undefined, requests: 0, successes: 0, buckets: [], windowMs: 0, tcpOpen: 0, service, route, proxyId }));
    return g;
  };
  for (const t of summary.traffic) {
    if (!keep(t.direction, t.source, t.destination, t.proxyId)) continue;
    const g = group(keyOf(t), t.destination, t.route, t.proxyId);
    g.requests += t.requests;
    g.successes += t.successes;
    g.windowMs = Math.max(g.windowMs, t.windowMs || summary.windowMs);
    mergeLatencyBuckets(g.buckets, t.latencyBuckets);
  }
  if (view !== 'routes') {
    for (const c of summary.tcp) {
      if (!keep(c.direction, c.source, c.destination, c.proxyId)) continue;
      const g = group(keyOf(c), c.destination, '', c.proxyId);
      g.tcpOpen += c.open;
      g.windowMs = Math.max(g.windowMs, summary.windowMs);
    }
  }
  const q = (buckets: number[], p: number): number | null => {
    const v = latencyQuantile(buckets, p);
    return Number.isNaN(v) ? null : v;
  };
  return [...groups.values()]
    .map((g) => ({
      service: g.service,
      ...(view === 'routes' ? { route: g.route } : {}),
      ...(view === 'proxies' ? { proxyId: g.proxyId } : {}),
      requests: g.requests,
      successes: g.successes,
      successRate: g.requests > 0 ? g.successes / g.requests : null,
      rps: g.windowMs > 0 ? g.requests / (g.windowMs / 1000) : 0,
      latencyMsP50: q(g.buckets, 0.5),
      latencyMsP95: q(g.buckets, 0.95),
      latencyMsP99: q(g.buckets, 0.99),
      tcpOpen: g.tcpOpen,
      windowMs: g.windowMs,
    }))
    .sort((a, b) => a.service.localeCompare(b.service) || (a.route ?? a.proxyId ?? '').localeCompare(b.route ?? b.proxyId ?? ''));
}

/** `0.8ms`, `12ms`, `1.25s`: latencies as a reader compares them; `-` without samples. */
export function formatLatency(ms: number | null): string {
  if (ms === null) return '-';
  if (ms < 10) return `${ms.toFixed(1)}ms`;
  if (ms < 1000) return `${Math.round(ms)}ms`;
  return `${(ms / 1000).toFixed(2)}s`;
}

export function formatRate(rate: number | null): string {
  return rate === null ? '-' : `${(rate * 100).toFixed(2)}%`;
}

export function formatRps(rps: number): string {
  return rps >= 100 ? rps.toFixed(0) : rps.toFixed(2);
}
