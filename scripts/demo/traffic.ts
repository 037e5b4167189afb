import * as http from 'node:http';
import { httpRequest } from '@weft/harness';

/** What sample-service answers (deploy/examples/apps/sample-service.js). */
interface AppReply {
  readonly service?: string;
  readonly version?: string;
  readonly downstream?: readonly { readonly service: string; readonly status: number; readonly attempts: number | null; readonly body?: unknown }[];
}

export interface TrafficResult {
  readonly sent: number;
  readonly ok: number;
  readonly byStatus: ReadonlyMap<number, number>;
  /** Which inventory version answered, read from each successful reply. */
  readonly inventoryVersions: ReadonlyMap<string, number>;
  /** Calls (any hop) whose sidecar reported x-weft-attempts > 1; null if no sidecar reported attempts. */
  readonly retriedCalls: number | null;
  readonly elapsedMs: number;
  readonly firstFailure: string | undefined;
}

function asReply(value: unknown): AppReply | undefined {
  return value !== null && typeof value === 'object' ? (value as AppReply) : undefined;
}

/** Walks the reply chain frontend -> orders -> inventory, calling `visit` on every downstream call. */
function walk(reply: AppReply | undefined, visit: (call: NonNullable<AppReply['downstream']>[number]) => void): void {
  for (const call of reply?.downstream ?? []) {
    visit(call);
    walk(asReply(call.body), visit);
  }
}

const count = <K>(map: Map<K, number>, key: K): void => void map.set(key, (map.get(key) ?? 0) + 1);

/**
 * Sends `total` GET requests for `Host: frontend` to the loadgen sidecar's outbound port,
 * `concurrency` at a time, and tallies what came back.
 */
export async function driveTraffic(outboundPort: number, total: number, concurrency: number): Promise<TrafficResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const byStatus = new Map<number, number>();
  const versions = new Map<string, number>();
  let ok = 0;
  let retried = 0;
  let attemptsReported = false;
  let firstFailure: string | undefined;
  let next = 0;
  const started = Date.now();

  const worker = async (): Promise<void> => {
    while (next < total) {
      next += 1;
      try {
        const res = await httpRequest({ port: outboundPort, path: `/checkout/${next}`, headers: { host: 'frontend' }, agent });
        count(byStatus, res.status);
        const attempts = res.headers['x-weft-attempts'];
        if (attempts !== undefined) {
          attemptsReported = true;
          if (Number(attempts) > 1) retried += 1;
        }
        let reply: AppReply | undefined;
        try {
          reply = asReply(JSON.parse(res.body));
        } catch {
          reply = undefined; // a sidecar error page, not an app reply
        }
        walk(reply, (call) => {
          if (call.attempts !== null) attemptsReported = true;
          if (call.attempts !== null && call.attempts > 1) retried += 1;
          const body = asReply(call.body);
          if (call.service === 'inventory' && call.status === 200 && body?.version) count(versions, body.version);
        });
        if (res.status === 200) ok += 1;
        else firstFailure ??= `${res.status} ${res.body.slice(0, 200)}`;
      } catch (err) {
        count(byStatus, 0);
        firstFailure ??= (err as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  agent.destroy();
  return {
    sent: total,
    ok,
    byStatus,
    inventoryVersions: versions,
    retriedCalls: attemptsReported ? retried : null,
    elapsedMs: Date.now() - started,
    firstFailure,
  };
}

/** Sends one request at a time until one goes all the way to inventory, proving the path works. */
export async function warmUp(outboundPort: number, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < until) {
    try {
      const res = await httpRequest({ port: outboundPort, headers: { host: 'frontend' }, timeoutMs: 5_000 });
      let reachedInventory = false;
      if (res.status === 200) walk(asReply(JSON.parse(res.body)), (c) => (reachedInventory ||= c.service === 'inventory' && c.status === 200));
      if (reachedInventory) return;
      last = `${res.status} ${res.body.slice(0, 300)}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`no request reached inventory within ${timeoutMs / 1000}s; last answer: ${last}`);
}
