/**
 * Reading a V8 sampling heap profile (`.heapprofile`, what `bench:profile --heap` writes): bytes
 * allocated per function (self) and per Weft function with everything it calls (inclusive), so
 * that a request's allocations, which every scavenge pays for again, can be put on the code that
 * makes them. Sizes are the sampler's estimates: each sample stands for about its interval's bytes.
 */
import { isWeftFrame, shortFile, type CallFrame } from './cpuprofile';

export interface HeapNode {
  readonly callFrame: CallFrame;
  /** Bytes allocated by this frame itself (not its callees). */
  readonly selfSize: number;
  readonly children: readonly HeapNode[];
}

export interface HeapProfile {
  readonly head: HeapNode;
}

export interface ByteEntry {
  readonly name: string;
  readonly bytes: number;
}

export interface HeapSummary {
  readonly totalBytes: number;
  readonly selfByFunction: readonly ByteEntry[];
  readonly inclusiveWeft: readonly ByteEntry[];
}

function frameName(f: CallFrame): string {
  return `${f.functionName || '(anonymous)'} ${shortFile(f.url)}${f.url ? `:${f.lineNumber + 1}` : ''}`;
}

function sorted(map: Map<string, number>, top: number): ByteEntry[] {
  return [...map].map(([name, bytes]) => ({ name, bytes })).sort((a, b) => b.bytes - a.bytes).slice(0, top);
}

export function summarizeHeap(profile: HeapProfile, top = 25): HeapSummary {
  const self = new Map<string, number>();
  const weft = new Map<string, number>();
  const add = (m: Map<string, number>, k: string, bytes: number): void => void m.set(k, (m.get(k) ?? 0) + bytes);
  let totalBytes = 0;
  // Iterative walk with the Weft frames on the path, each counted once however often it recurs.
  const stack: { node: HeapNode; weftPath: readonly string[] }[] = [{ node: profile.head, weftPath: [] }];
  while (stack.length > 0) {
    const { node, weftPath } = stack.pop() as { node: HeapNode; weftPath: readonly string[] };
    const name = frameName(node.callFrame);
    const path = isWeftFrame(node.callFrame.url) && !weftPath.includes(name) ? [...weftPath, name] : weftPath;
    if (node.selfSize > 0) {
      totalBytes += node.selfSize;
      add(self, name, node.selfSize);
      for (const w of path) add(weft, w, node.selfSize);
    }
    for (const child of node.children) stack.push({ node: child, weftPath: path });
  }
  return { totalBytes, selfByFunction: sorted(self, top), inclusiveWeft: sorted(weft, top) };
}

/** A Markdown report of one heap profile: bytes per request, by function. */
export function renderHeapSummary(title: string, s: HeapSummary, requests: number, top = 20): string {
  const perReq = (bytes: number): string => (bytes / requests).toFixed(0);
  const table = (head: string, entries: readonly ByteEntry[]): string[] => [
    `| ${head} | bytes/req | % |`,
    '| --- | ---: | ---: |',
    ...entries.slice(0, top).map((e) => `| \`${e.name}\` | ${perReq(e.bytes)} | ${((100 * e.bytes) / s.totalBytes).toFixed(1)} |`),
  ];
  return [
    `#### ${title}`,
    '',
    `${requests} requests, **${perReq(s.totalBytes)} bytes allocated per request** (sampled, freed objects included).`,
    '',
    ...table('self, function', s.selfByFunction),
    '',
    ...table("inclusive, Weft's own functions", s.inclusiveWeft),
    '',
  ].join('\n');
}
