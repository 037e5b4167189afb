import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';

/** What one load run measured. */
export interface LoadResult {
  readonly requests: number;
  readonly errors: number;
  readonly seconds: number;
  /** Latencies in milliseconds, sorted. */
  readonly latencies: readonly number[];
}

/**
 * Closed-loop HTTP/1.1 load: `concurrency` keep-alive connections, each sending its next request
 * as soon as the previous answer has been read, for `durationMs`. Every request is `GET path`
 * with `Host: host`, as an app sends to its sidecar's outbound port.
 */
export async function closedLoop(port: number, host: string, concurrency: number, durationMs: number): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const latencies: number[] = [];
  let errors = 0;
  const startedAt = performance.now();
  const endAt = startedAt + durationMs;
  const one = (): Promise<void> =>
    new Promise((resolve) => {
      const sentAt = performance.now();
      const req = request({ host: '127.0.0.1', port, path: '/bench', agent, headers: { host } }, (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode === 200) latencies.push(performance.now() - sentAt);
          else errors += 1;
          resolve();
        });
        res.on('error', () => ((errors += 1), resolve()));
      });
      req.on('error', () => ((errors += 1), resolve()));
      req.end();
    });
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < endAt) await one();
    }),
  );
  const seconds = (performance.now() - startedAt) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return { requests: latencies.length, errors, seconds, latencies };
}

/** The `p`-th percentile (0..100) of sorted values, nearest rank. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}
