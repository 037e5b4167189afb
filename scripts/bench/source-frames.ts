/**
 * Puts a profile's frames back on the TypeScript sources. The sidecar runs from one esbuild bundle
 * (scripts/bundle-sidecar.ts), which writes many modules' code on one line, so a frame's bundle
 * line names no file and an `(anonymous)` closure cannot be told from another. The bundle's source
 * map (written beside it, `main.js.map`) maps each frame's line and column to its source file and
 * line; frames of files without a map are left as they are.
 */
import * as fs from 'node:fs';
import { SourceMap } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CallFrame } from './cpuprofile';

/** What V8 writes for a frame: 0-based line and column in the script it ran. */
export interface PositionedFrame extends CallFrame {
  readonly columnNumber?: number;
}

/** A map from script URL to its source map (undefined: the script has none). */
export class SourceFrames {
  readonly #maps = new Map<string, { readonly map: SourceMap; readonly dir: string } | undefined>();

  /** The frame as written in its source: file, line and the function's own name where V8 had one. */
  original(frame: PositionedFrame): PositionedFrame {
    if (!frame.url || frame.columnNumber === undefined || frame.lineNumber < 0) return frame;
    const loaded = this.#load(frame.url);
    if (!loaded) return frame;
    const entry = loaded.map.findEntry(frame.lineNumber, frame.columnNumber) as { originalSource?: string; originalLine?: number; originalColumn?: number };
    if (entry.originalSource === undefined || entry.originalLine === undefined) return frame;
    const source = entry.originalSource.startsWith('file://') ? fileURLToPath(entry.originalSource) : path.resolve(loaded.dir, entry.originalSource);
    return { functionName: frame.functionName, url: source, lineNumber: entry.originalLine, columnNumber: entry.originalColumn ?? 0 };
  }

  #load(url: string): { readonly map: SourceMap; readonly dir: string } | undefined {
    if (this.#maps.has(url)) return this.#maps.get(url);
    let loaded: { readonly map: SourceMap; readonly dir: string } | undefined;
    try {
      const file = url.startsWith('file://') ? fileURLToPath(url) : url;
      const mapFile = `${file}.map`;
      if (path.isAbsolute(file) && fs.existsSync(mapFile)) loaded = { map: new SourceMap(JSON.parse(fs.readFileSync(mapFile, 'utf8')) as ConstructorParameters<typeof SourceMap>[0]), dir: path.dirname(mapFile) };
    } catch {
      loaded = undefined; // an unreadable map: the frame keeps its bundle position
    }
    this.#maps.set(url, loaded);
    return loaded;
  }
}

/** Every node's frame mapped to its source, for a `.cpuprofile` (flat node list). */
export function withSourceFrames<P extends { readonly nodes: readonly { readonly callFrame: CallFrame }[] }>(profile: P, frames = new SourceFrames()): P {
  return { ...profile, nodes: profile.nodes.map((n) => ({ ...n, callFrame: frames.original(n.callFrame) })) };
}

/** The same for a `.heapprofile` (a tree under `head`). */
export interface FrameTree {
  readonly callFrame: CallFrame;
  readonly children: readonly FrameTree[];
}
export function withSourceTree<T extends FrameTree>(node: T, frames = new SourceFrames()): T {
  return { ...node, callFrame: frames.original(node.callFrame), children: node.children.map((c) => withSourceTree(c, frames)) };
}
