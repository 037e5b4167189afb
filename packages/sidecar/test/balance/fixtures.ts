import type { EndpointLoad, PickerInputs, PickResult } from '../../src/balance/picker';
import type { CompiledEndpoint } from '../../src/config/types';

/** Endpoints named by address, with labels left empty. */
export function endpoints(...addresses: string[]): CompiledEndpoint[] {
  return addresses.map((address) => ({ address, proxyId: address, labels: {} }));
}

/** Mutable live state per endpoint, as EndpointStates would hold it. */
export type Load = { inflight: number; ejected: boolean; failing: boolean } & EndpointLoad;

/** Picker inputs over `addresses`; `random` replays `rolls` (then 0), or is Math.random. */
export function inputs(
  addresses: string[],
  options: { rolls?: number[]; random?: () => number; maxConnections?: number; skipEjected?: boolean } = {},
): PickerInputs & { readonly states: Load[] } {
  const rolls = options.rolls ? [...options.rolls] : undefined;
  return {
    endpoints: endpoints(...addresses),
    states: addresses.map(() => ({ inflight: 0, ejected: false, failing: false })),
    maxConnections: options.maxConnections,
    skipEjected: options.skipEjected ?? true,
    random: options.random ?? (rolls ? () => rolls.shift() ?? 0 : Math.random),
  };
}

/** The address a pick chose, or the result kind. */
export function addr(r: PickResult): string {
  return r.kind === 'endpoint' ? r.endpoint.address : r.kind;
}

/** A seeded PRNG (mulberry32), so statistical tests are repeatable. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
