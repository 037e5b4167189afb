import { renderTable } from '@weft/cli';
import type { CollectedSpan } from '@weft/harness';
import type { Counters } from './metrics';
import type { Instance } from './topology';
import type { TrafficResult } from './traffic';

const pct = (n: number, total: number): string => (total > 0 ? `${((100 * n) / total).toFixed(1)}%` : '-');

/** Inbound requests and successes per instance, as each sidecar counted them. */
export function requestsTable(rows: readonly { instance: Instance; counters: Counters }[]): string {
  return renderTable(
    ['SERVICE', 'VERSION', 'REQUESTS IN', 'SUCCEEDED', 'SUCCESS'],
    rows
      .filter((r) => r.instance.service !== 'loadgen')
      .map(({ instance, counters }) => [
        instance.service,
        instance.version,
        String(counters.inbound),
        String(counters.inboundOk),
        pct(counters.inboundOk, counters.inbound),
      ]),
  );
}

export function trafficLine(t: TrafficResult): string {
  const statuses = [...t.byStatus.entries()].sort(([a], [b]) => a - b).map(([s, n]) => `${s === 0 ? 'no answer' : s}: ${n}`);
  return `${t.sent} requests in ${(t.elapsedMs / 1000).toFixed(1)}s: ${t.ok} OK (${pct(t.ok, t.sent)}); by status ${statuses.join(', ')}`;
}

export function splitLines(fromReplies: ReadonlyMap<string, number>, fromMetrics: readonly { version: string; count: number }[]): string {
  const total = [...fromReplies.values()].reduce((a, b) => a + b, 0);
  const replies = ['v1', 'v2'].map((v) => `${v} ${fromReplies.get(v) ?? 0} (${pct(fromReplies.get(v) ?? 0, total)})`).join(', ');
  const metricsTotal = fromMetrics.reduce((a, b) => a + b.count, 0);
  const metrics = fromMetrics.map((m) => `${m.version} ${m.count} (${pct(m.count, metricsTotal)})`).join(', ');
  return (
    `  from the replies (which version answered): ${replies}\n` +
    `  from the inventory sidecars' /metrics:      ${metrics}\n` +
    '  the Route asks for 90/10; with a few hundred requests, a few points either way is expected.'
  );
}

export function retryLines(retries: ReadonlyMap<string, number>, retriedCalls: number | null): string {
  const byDest = [...retries.entries()].filter(([, n]) => n > 0).map(([d, n]) => `${d} ${n}`);
  const apps = retriedCalls === null ? 'the sidecars sent no x-weft-attempts header' : `${retriedCalls} calls needed more than one attempt`;
  return (
    `  weft_retries_total during the run: ${byDest.length > 0 ? byDest.join(', ') : 'none'}\n` +
    `  seen by the apps (x-weft-attempts): ${apps}`
  );
}

/** The most telling trace: the one that crosses the most services, then the one with the most spans (retries add spans). */
export function pickTrace(spans: readonly CollectedSpan[]): CollectedSpan[] {
  const traces = new Map<string, CollectedSpan[]>();
  for (const s of spans) traces.set(s.traceId, [...(traces.get(s.traceId) ?? []), s]);
  const score = (list: CollectedSpan[]): number => new Set(list.map((s) => s.serviceName)).size * 1000 + list.length;
  return [...traces.values()].sort((a, b) => score(b) - score(a))[0] ?? [];
}

/** A trace that went all the way: spans from loadgen, frontend, orders and inventory. */
export function hasCompleteTrace(spans: readonly CollectedSpan[]): boolean {
  const services = new Map<string, Set<string>>();
  for (const s of spans) services.set(s.traceId, (services.get(s.traceId) ?? new Set()).add(s.serviceName));
  return [...services.values()].some((set) => ['loadgen', 'frontend', 'orders', 'inventory'].every((name) => set.has(name)));
}
