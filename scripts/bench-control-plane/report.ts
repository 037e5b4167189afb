/** The table of `npm run bench:control-plane`: one column per fleet size, the goals beside. */
import { histogram, peakShare, sparkline, type Spread } from './stats';

export interface ScaleResult {
  readonly proxies: number;
  readonly services: number;
  readonly workers: number;
  /** Route change applied -> each proxy's ACK of it, ms, pooled over the rounds. */
  readonly push: Spread;
  readonly rounds: number;
  /** Control plane CPU seconds per route change pushed to every proxy (mean of the rounds). */
  readonly cpuSecondsPerPush: number;
  /** Largest encoded snapshot a proxy received, bytes. */
  readonly snapshotBytes: number;
  /** Snapshot bytes the whole fleet received per route change (mean of the rounds). */
  readonly bytesPerChange: number;
  /** Connected and settled minus idle, per proxy, kB. */
  readonly rssKbPerProxy: number;
  readonly heapKbPerProxy: number;
  readonly signaturesPerSecond: number;
  readonly cpuMsPerSignature: number;
  /** The simulated sidecars' CPU (every worker process) over the same burst: the other side of each call, on the same machine. */
  readonly fleetCpuMsPerSignature: number;
  readonly signFailures: number;
  /** First stream opened -> every proxy has ACKed its first snapshot, ms (streams opened at --join-rate). */
  readonly joinMs: number;
  /** kill -9 -> each proxy's first ACK from the restarted control plane, ms. */
  readonly reconnectFromKill: Spread;
  /** The restarted control plane logged `ready` this long after the kill, ms. */
  readonly restartReadyMs: number;
  /** Reconnect times after `ready`, ms (for the histogram). */
  readonly reconnectAfterReady: readonly number[];
  /** Streams that ended before the restart (each one reconnected with backoff), and why. */
  readonly lostStreams: number;
  readonly lostReason: string;
}

export const GOALS = Object.freeze({ pushP99Ms: 1_000, pushAtProxies: 1_000, memoryKbPerProxy: 1_024, signaturesPerSecond: 300 });

const int = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '-');
const fixed = (n: number, digits: number): string => (Number.isFinite(n) ? n.toFixed(digits) : '-');
const spreadText = (s: Spread): string => `${int(s.p50)} / ${int(s.p99)} / ${int(s.max)}${s.missing > 0 ? ` (${s.missing} missing)` : ''}`;

export function renderTable(results: readonly ScaleResult[]): string {
  const rows: [string, string, (r: ScaleResult) => string][] = [
    ['services / worker processes', '', (r) => `${r.services} / ${r.workers}`],
    ['route change -> ACK, ms p50 / p99 / max', `p99 <= ${int(GOALS.pushP99Ms)} at ${int(GOALS.pushAtProxies)}`, (r) => `${spreadText(r.push)} (${r.rounds} rounds)`],
    ['control plane CPU per push, s (ms per proxy)', '', (r) => `${fixed(r.cpuSecondsPerPush, 2)} (${fixed((r.cpuSecondsPerPush * 1000) / r.proxies, 2)})`],
    ['snapshot per proxy, bytes', '', (r) => int(r.snapshotBytes)],
    ['bytes pushed per route change, all proxies', '', (r) => int(r.bytesPerChange)],
    ['control plane RSS per proxy, kB', `<= ${int(GOALS.memoryKbPerProxy)}`, (r) => int(r.rssKbPerProxy)],
    ['control plane V8 heap per proxy, kB', '', (r) => int(r.heapKbPerProxy)],
    ['certificates signed per second (join burst)', `>= ${GOALS.signaturesPerSecond}`, (r) => `${int(r.signaturesPerSecond)}${r.signFailures ? ` (${r.signFailures} failed)` : ''}`],
    ['control plane CPU per signature, ms', '', (r) => fixed(r.cpuMsPerSignature, 1)],
    ['simulated sidecars\' CPU per signature (same machine), ms', '', (r) => fixed(r.fleetCpuMsPerSignature, 1)],
    ['join: all streams ACKed, ms', '', (r) => int(r.joinMs)],
    ['streams lost before the restart (reconnected)', '0', (r) => int(r.lostStreams)],
    ['restart: kill -9 -> ready, ms', '', (r) => int(r.restartReadyMs)],
    ['restart: kill -9 -> ACK, ms p50 / p99 / max', '', (r) => spreadText(r.reconnectFromKill)],
    ['restart: largest share of reconnects in one 100 ms', '', (r) => `${fixed(100 * peakShare(histogram(r.reconnectAfterReady, 100)), 1)} %`],
  ];
  const head = `| figure | goal | ${results.map((r) => `N = ${int(r.proxies)}`).join(' | ')} |`;
  const rule = `| --- | --- | ${results.map(() => '---:').join(' | ')} |`;
  const body = rows.map(([name, goal, cell]) => `| ${name} | ${goal} | ${results.map(cell).join(' | ')} |`);
  const histograms = results.map((r) => `- N = ${int(r.proxies)}: reconnects per 100 ms after \`ready\`: ${sparkline(histogram(r.reconnectAfterReady, 100))}`);
  const lost = results.filter((r) => r.lostStreams > 0).map((r) => `- N = ${int(r.proxies)}: streams lost: ${r.lostReason}`);
  return [head, rule, ...body, '', ...histograms, ...lost].join('\n');
}

/** Whether each goal was met (at the fleet size it names; memory and signatures at every size). */
export function verdicts(results: readonly ScaleResult[]): string[] {
  const lines: string[] = [];
  const at = results.find((r) => r.proxies === GOALS.pushAtProxies);
  if (at) lines.push(`p99 route change -> ACK at ${int(at.proxies)} proxies: ${int(at.push.p99)} ms (goal <= ${int(GOALS.pushP99Ms)}): ${at.push.p99 <= GOALS.pushP99Ms && at.push.missing === 0 ? 'met' : 'NOT met'}`);
  for (const r of results) {
    lines.push(`N = ${int(r.proxies)}: ${int(r.rssKbPerProxy)} kB RSS per proxy (goal <= ${int(GOALS.memoryKbPerProxy)}): ${r.rssKbPerProxy <= GOALS.memoryKbPerProxy ? 'met' : 'NOT met'}; ` +
      `${int(r.signaturesPerSecond)} signatures/s (goal >= ${GOALS.signaturesPerSecond}): ${r.signaturesPerSecond >= GOALS.signaturesPerSecond ? 'met' : 'NOT met'}`);
  }
  return lines;
}
