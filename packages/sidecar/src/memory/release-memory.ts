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
  const trim = timedTrim(native);
  return {
    collection: native.available ? 'last-resort' : 'full',
    trimmed: trim.trimmed,
    collectMs: t1 - t0,
    trimMs: trim.trimMs,
    rssBefore: before.rss,
    rssCollected: trim.before.rss,
    rssAfter: trim.after.rss,
    anonBefore: before.anon,
    anonAfter: trim.after.anon,
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
  const t = timedTrim(native);
  return t.trimmed ? { trimMs: t.trimMs, rssBefore: t.before.rss, rssAfter: t.after.rss } : undefined;
}

type Resident = ReturnType<typeof residentMemory>;

/** malloc_trim(0) with the resident memory either side of it and its main-thread time (the release's last step, or the trim alone). */
function timedTrim(native: NativeMemory): { readonly trimmed: boolean; readonly trimMs: number; readonly before: Resident; readonly after: Resident } {
  const before = residentMemory();
  const t0 = performance.now();
  const trimmed = native.trim() !== undefined;
  const trimMs = performance.now() - t0;
  return { trimmed, trimMs, before, after: residentMemory() };
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
