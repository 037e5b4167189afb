import { join } from 'node:path';
import { packageRoot } from '@weft/api';

/**
 * The two calls a sidecar makes to give memory back, from the native addon built at `npm ci`
 * (native/memory.cc). When the addon is missing (no compiler at install time, an addon built
 * before it had these) `available` is false and `reason` says why: the sidecar then collects with
 * V8's ordinary full collection and leaves malloc's free memory where it is.
 */
export interface NativeMemory {
  readonly available: boolean;
  readonly reason: string;
  /**
   * V8's last-resort collection (`Isolate::LowMemoryNotification`): full collections with the
   * memory-reducing flags until nothing more is freed, then the pooled and freed pages unmapped.
   */
  collectAll(): void;
  /** glibc's malloc_trim(0): true if memory went back, false if none could; undefined without glibc. */
  trim(): boolean | undefined;
}

interface Addon {
  lowMemoryNotification(): void;
  mallocTrim(): boolean | undefined;
}

/** From the package root: this file runs from tsc's output (dist/src/memory/) and from the bundle (dist/bundle/). */
const ADDON_PATH = join('native', 'build', 'Release', 'weft_memory.node');

let loaded: NativeMemory | undefined;

/** The process's addon, loaded once. */
export function nativeMemory(): NativeMemory {
  loaded ??= loadNativeMemory(join(packageRoot(__dirname), ADDON_PATH));
  return loaded;
}

/** The addon at `path` (the built one unless a test or embedder says otherwise). */
export function loadNativeMemory(path: string): NativeMemory {
  let addon: Addon;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    addon = require(path) as Addon;
  } catch (err) {
    return unavailable(`the memory addon is not built (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): run \`npm ci\` (or \`node packages/sidecar/native/build.js\`) with g++, make and python3 installed`);
  }
  if (typeof addon.lowMemoryNotification !== 'function' || typeof addon.mallocTrim !== 'function') {
    return unavailable('the memory addon is from an older build: run `node packages/sidecar/native/build.js`');
  }
  return { available: true, reason: '', collectAll: () => addon.lowMemoryNotification(), trim: () => addon.mallocTrim() };
}

function unavailable(reason: string): NativeMemory {
  return { available: false, reason, collectAll: () => undefined, trim: () => undefined };
}
