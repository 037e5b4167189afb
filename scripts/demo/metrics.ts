import { httpGetText, parsePrometheusText, type Sample, type Sidecar } from '@weft/harness';

/** Counters of one sidecar, read from its admin port's /metrics (names from the sidecar's telemetry). */
export interface Counters {
  readonly inbound: number;
  readonly inboundOk: number;
  /** weft_retries_total by destination. */
  readonly retries: ReadonlyMap<string, number>;
}

const REQUESTS = 'weft_requests_total';
const RETRIES = 'weft_retries_total';

function tally(samples: readonly Sample[]): Counters {
  let inbound = 0;
  let inboundOk = 0;
  const retries = new Map<string, number>();
  for (const s of samples) {
    if (s.name === REQUESTS && s.labels['direction'] === 'inbound') {
      inbound += s.value;
      if (/^2/.test(s.labels['code'] ?? '')) inboundOk += s.value;
    } else if (s.name === RETRIES) {
      const dest = s.labels['destination'] ?? 'unknown';
      retries.set(dest, (retries.get(dest) ?? 0) + s.value);
    }
  }
  return { inbound, inboundOk, retries };
}

export async function readCounters(sidecar: Sidecar): Promise<Counters & { readonly exported: boolean }> {
  const samples = parsePrometheusText(await httpGetText(sidecar.adminPort, '/metrics'));
  return { ...tally(samples), exported: samples.some((s) => s.name === REQUESTS) };
}

/** What happened between two readings: the demo reports only its own traffic, not the warm-up. */
export function delta(after: Counters, before: Counters): Counters {
  const retries = new Map<string, number>();
  for (const [dest, n] of after.retries) retries.set(dest, n - (before.retries.get(dest) ?? 0));
  return { inbound: after.inbound - before.inbound, inboundOk: after.inboundOk - before.inboundOk, retries };
}
