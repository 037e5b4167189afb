import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { NativeMemory } from './native-memory';

/** What one release did, from /proc/self/status and V8 before and after it. */
export interface MemoryReleased {
  /** How the heap was collected: V8's last-resort collection (addon) or an ordinary full one. */
  readonly collection: 'last-resort' | 'full';
  /** Whether malloc_trim ran (false without the addon or without glibc). */
  readonly trimmed: boolean;
  /** Main-thread time of the collection and of the trim, in ms. */
  readonly collectMs: number;
  readonly trimMs: number;
  /** Resident memory in bytes (VmRSS, and its anonymous part RssAnon); 0 where /proc is missing. */
  readonly rssBefore: number;
  /** VmRSS between the collection and the trim: what each of the two gave back. */
  readonly rssCollected: number;
  readonly rssAfter: number;
  readonly anonBefore: number;
  readonly anonAfter: number;
  /** V8's committed heap (heapTotal), bytes. */
  readonly heapBefore: number;
  readonly heapAfter: number;
}

/**
 * Gives back what load made the process take: the V8 heap it grew (new space, old-space slack,
 * pooled pages) and the free memory left in malloc's arenas. Synchronous, so no request can start
 * in the middle of it; the caller runs it only when nothing is in flight.
 *
 * With the addon, V8's last-resort collection: on Node 20 (V8 11.3) the `gc` function's options
 * bag cannot ask for it (`flavor` is not known there, and `{ type: 'major' }` alone is taken for
 * the legacy truthy argument, a young-generation collection), and a plain `gc()` is a full
 * collection without the memory-reducing flags: it leaves V8's page pool and the external memory
 * only a second collection frees (docs/performance.md, "Session 9: giving memory back when idle").
 */
export function releaseMemory(native: NativeMemory): MemoryReleased {
  const before = residentMemory();
  const heapBefore = process.memoryUsage().heapTotal;
  const t0 = performance.now();
  if (native.available) native.collectAll();
  else fullCollection()();
  const t1 = performance.now();
  const collected = residentMemory();
  const t2 = performance.now();
  const trimmed = native.trim() !== undefined;
  const t3 = performance.now();
  const after = residentMemory();
  return {
    collection: native.available ? 'last-resort' : 'full',
    trimmed,
    collectMs: t1 - t0,
    trimMs: t3 - t2,
    rssBefore: before.rss,
    rssCollected: collected.rss,
    rssAfter: after.rss,
    anonBefore: before.anon,
    anonAfter: after.anon,
    heapBefore,
    heapAfter: process.memoryUsage().heapTotal,
  };
}

let gc: (() => void) | undefined;

/**
 * V8's `gc` function without starting node with --expose-gc: the flag, set at run time, installs
 * the extension in contexts created from then on, so one new context hands it over. Made on first
 * use only (a context is a few hundred KB).
 */
function fullCollection(): () => void {
  if (!gc) {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
  }
  return gc;
}

/** What one trim of malloc's arenas did. */
export interface MemoryTrimmed {
  readonly trimMs: number;
  /** VmRSS before and after, bytes. */
  readonly rssBefore: number;
  readonly rssAfter: number;
}

/**
 * glibc's `malloc_trim(0)` alone: the free pages inside malloc's arenas go back to the system. A
 * burst of large bodies leaves the main arena several MB bigger, its free chunks pinned between
 * live ones where free() cannot give them back (docs/performance.md, "Session 11: malloc's arenas
 * after a burst"). It takes 0.1-8 ms and collects nothing, so it can follow every burst; the V8
 * heap waits for the full release. Undefined without the addon (or glibc).
 */
export function trimMemory(native: NativeMemory): MemoryTrimmed | undefined {
  if (!native.available) return undefined;
  const before = residentMemory().rss;
  const t0 = performance.now();
  if (native.trim() === undefined) return undefined;
  const trimMs = performance.now() - t0;
  return { trimMs, rssBefore: before, rssAfter: residentMemory().rss };
}

/** VmRSS and RssAnon of this process in bytes (Linux); zeros elsewhere. */
export function residentMemory(): { readonly rss: number; readonly anon: number } {
  let status: string;
  try {
    status = readFileSync('/proc/self/status', 'latin1');
  } catch {
    return { rss: 0, anon: 0 };
  }
  return { rss: kb(status, 'VmRSS') * 1024, anon: kb(status, 'RssAnon') * 1024 };
}

function kb(status: string, field: string): number {
  const at = status.indexOf(`${field}:`);
  return at < 0 ? 0 : parseInt(status.slice(at + field.length + 1), 10) || 0;
}
