import { mergeLatencyBuckets, type Edge, type EdgesRequest, type EdgesResponse, type StatRequest, type StatResponse, type StatSummary, type TcpCounts, type TrafficCounts } from '@weft/api';
import { ControlPlaneError } from '../errors';
import type { ObserveHub } from '../discovery/observe-hub';

const DEFAULT_WINDOW_MS = 60_000;
const MAX_WINDOW_MS = 600_000;
const DEFAULT_TIMEOUT_MS = 2_000;
const MAX_TIMEOUT_MS = 30_000;

function timeoutOf(ms: number): number {
  const t = Number(ms) || DEFAULT_TIMEOUT_MS;
  if (t < 0 || t > MAX_TIMEOUT_MS) throw new ControlPlaneError('WEFT_ERR_INVALID_ARGUMENT', `timeoutMs must be between 0 (the default, ${DEFAULT_TIMEOUT_MS} ms) and ${MAX_TIMEOUT_MS}`);
  return t;
}

/**
 * Admin.Stat: every proxy's summary of the window, asked over the discovery streams and merged
 * by (direction, source, destination, route) (and proxy, with by_proxy). Histograms merge exactly
 * (the same buckets everywhere), so percentiles are computed from the sum, by weftctl.
 */
export async function stat(hub: ObserveHub, req: StatRequest): Promise<StatResponse> {
  const windowMs = Number(req.windowMs) || DEFAULT_WINDOW_MS;
  if (windowMs < 0 || windowMs > MAX_WINDOW_MS) {
    throw new ControlPlaneError('WEFT_ERR_INVALID_ARGUMENT', `windowMs must be between 1 and ${MAX_WINDOW_MS} (10 minutes, what sidecars keep), or 0 for one minute`);
  }
  const { replies, proxies } = await hub.gather({ stat: { windowMs } }, timeoutOf(req.timeoutMs));
  const summaries = [...replies].flatMap(([proxyId, r]) => (r.stat ? [{ proxyId, summary: r.stat }] : []));
  return { summary: mergeSummaries(summaries, req.byProxy === true), proxies };
}

export function mergeSummaries(summaries: readonly { readonly proxyId: string; readonly summary: StatSummary }[], byProxy: boolean): StatSummary {
  const traffic = new Map<string, TrafficCounts>();
  const tcp = new Map<string, TcpCounts>();
  let windowMs = 0;
  for (const { proxyId, summary } of summaries) {
    const proxy = byProxy ? proxyId : '';
    const covered = Number(summary.windowMs);
    windowMs = Math.max(windowMs, covered);
    for (const t of summary.traffic ?? []) {
      const key = [t.direction, t.source, t.destination, t.route, proxy].join('\n');
      const sum = traffic.get(key) ?? { ...t, proxyId: proxy, requests: 0, successes: 0, latencyBuckets: [], latencySumMs: 0, windowMs: 0 };
      sum.requests += Number(t.requests);
      sum.successes += Number(t.successes);
      sum.latencySumMs += t.latencySumMs;
      sum.windowMs = Math.max(sum.windowMs, Number(t.windowMs) || covered);
      mergeLatencyBuckets(sum.latencyBuckets, (t.latencyBuckets ?? []).map(Number));
      traffic.set(key, sum);
    }
    for (const t of summary.tcp ?? []) {
      const key = [t.direction, t.source, t.destination, proxy].join('\n');
      const sum = tcp.get(key) ?? { ...t, proxyId: proxy, open: 0, opened: 0, closed: 0, receivedBytes: 0, sentBytes: 0 };
      sum.open += Number(t.open);
      sum.opened += Number(t.opened);
      sum.closed += Number(t.closed);
      sum.receivedBytes += Number(t.receivedBytes);
      sum.sentBytes += Number(t.sentBytes);
      tcp.set(key, sum);
    }
  }
  return { windowMs, traffic: [...traffic.values()], tcp: [...tcp.values()] };
}

/** Admin.Edges: every proxy's edges, each labelled with the proxy that saw it. */
export async function edges(hub: ObserveHub, req: EdgesRequest): Promise<EdgesResponse> {
  const { replies, proxies } = await hub.gather({ edges: true }, timeoutOf(req.timeoutMs));
  const all: Edge[] = [];
  for (const [proxyId, reply] of replies) for (const e of reply.edges ?? []) all.push({ ...e, proxyId });
  return { edges: all, proxies };
}
