/**
 * One slot: one generator against one configuration for one workload, with the proxies' CPU
 * read before and after and their RSS polled throughout. The schedule interleaves the
 * configurations slot by slot, rotating who goes first, so drift on the machine hits all alike.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import type { ConfigName, Configuration, Protocol } from './configuration';
import type { LoadFigures } from './parse';
import { clockTicksPerSecond, cpuSecondsPer1000, RssSampler, type ProcessSet } from './proc-stats';
import { h2loadGrpc, openLoopAt, wrkMax } from './runners';
import { FILES } from './upstreams';

export const WORKLOADS = ['1k', '16k', 'grpc'] as const;
export type Workload = (typeof WORKLOADS)[number];
/** `max`: closed loop as fast as it goes; a number: open loop at that many req/s. */
export const MEASURES = ['max', 500, 2000] as const;
export type Measure = (typeof MEASURES)[number];

export const protocolOf = (w: Workload): Protocol => (w === 'grpc' ? 'grpc' : 'http');

export interface Usage {
  /** CPU seconds per 1000 requests over the slot. */
  readonly cpuPer1000: number;
  /** Peak RSS during the slot, kB. */
  readonly peakRssKb: number;
}

export interface SlotResult {
  readonly config: ConfigName;
  readonly workload: Workload;
  readonly measure: Measure;
  readonly figures: LoadFigures;
  readonly client?: Usage;
  readonly server?: Usage;
  /** Same order as the configuration's `others`. */
  readonly others: readonly Usage[];
}

const TICKS = clockTicksPerSecond();

export async function generate(config: Configuration, workload: Workload, measure: Measure, seconds: number, grpcBody: string): Promise<LoadFigures> {
  const target = config.target(protocolOf(workload));
  if (workload === 'grpc') {
    const log = path.join(os.tmpdir(), `weft-bench-h2load-${process.pid}.log`);
    return h2loadGrpc(target, grpcBody, seconds, log, measure === 'max' ? undefined : measure);
  }
  const file = FILES[workload].path;
  return measure === 'max' ? wrkMax(target, file, seconds) : openLoopAt(target, file, measure, seconds);
}

export async function runSlot(config: Configuration, workload: Workload, measure: Measure, seconds: number, grpcBody: string): Promise<SlotResult> {
  const proxies = config.proxies(protocolOf(workload));
  const sets = [proxies.client, proxies.server, ...proxies.others].filter((s): s is ProcessSet => s !== undefined);
  const before = new Map(sets.map((s) => [s, s.cpuTicks()]));
  const sampler = new RssSampler(sets);
  const figures = await generate(config, workload, measure, seconds, grpcBody);
  const peaks = sampler.stop();
  const usage = (set: ProcessSet): Usage => ({
    cpuPer1000: cpuSecondsPer1000(before.get(set) ?? 0, set.cpuTicks(), TICKS, figures.requests),
    peakRssKb: peaks.get(set) ?? NaN,
  });
  return {
    config: config.name,
    workload,
    measure,
    figures,
    ...(proxies.client ? { client: usage(proxies.client) } : {}),
    ...(proxies.server ? { server: usage(proxies.server) } : {}),
    others: proxies.others.map(usage),
  };
}

/**
 * Waits until the given processes are quiet (under 8% of a CPU over 250 ms) or `maxMs` passes,
 * so a backlog one slot left behind is not charged to the next.
 */
export async function settle(sets: readonly ProcessSet[], maxMs: number): Promise<void> {
  const total = (): number => sets.reduce((n, s) => n + s.cpuTicks(), 0);
  const stopAt = Date.now() + maxMs;
  while (Date.now() < stopAt) {
    const before = total();
    await new Promise((r) => setTimeout(r, 250));
    if ((total() - before) / TICKS <= 0.02) return;
  }
}

/** The configurations in slot order for cell `index`: rotated by one each cell. */
export function rotation<T>(items: readonly T[], index: number): T[] {
  const k = index % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}
