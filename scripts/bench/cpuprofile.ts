/**
 * Reading a V8 `.cpuprofile` (what `node --cpu-prof` writes): self time per function, and
 * inclusive time per source file (a file counts once per sample however often it is on the
 * stack). Times come from the sample deltas, so they are wall-clock time spent on the CPU by the
 * main thread; `(idle)` is time the event loop waited.
 */

export interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}

export interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}

export interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  /** µs since the previous sample; timeDeltas[i] belongs to samples[i]. */
  readonly timeDeltas: readonly number[];
}

export interface Entry {
  readonly name: string;
  /** Milliseconds. */
  readonly ms: number;
}

export interface ProfileSummary {
  /** Milliseconds sampled in all. */
  readonly totalMs: number;
  /** Milliseconds the thread was idle (waiting in the event loop). */
  readonly idleMs: number;
  /** `(garbage collector)` samples. */
  readonly gcMs: number;
  readonly selfByFunction: readonly Entry[];
  readonly selfByFile: readonly Entry[];
  readonly inclusiveByFile: readonly Entry[];
  /** Inclusive time of Weft's own functions (packages/), once per sample: the cost of each layer. */
  readonly inclusiveWeft: readonly Entry[];
}

/** A short file name: the part after node_modules/ or the repository's packages/, or the node: builtin. */
export function shortFile(url: string): string {
  if (url === '') return '(native)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) return url.slice(nm + 'node_modules/'.length);
  const pk = url.indexOf('/packages/');
  if (pk >= 0) return url.slice(pk + '/packages/'.length).replace('/dist/src/', '/');
  return url.replace(/^file:\/\//, '');
}

/** Weft's own code: under the repository's packages/, not a dependency installed beneath one of them. */
export function isWeftFrame(url: string): boolean {
  return url.includes('/packages/') && !url.includes('/node_modules/');
}

function frameName(f: CallFrame): string {
  return `${f.functionName || '(anonymous)'} ${shortFile(f.url)}${f.url ? `:${f.lineNumber + 1}` : ''}`;
}

function sorted(map: Map<string, number>, top: number): Entry[] {
  return [...map].map(([name, us]) => ({ name, ms: us / 1000 })).sort((a, b) => b.ms - a.ms).slice(0, top);
}

/** Samples taken in [fromUs, toUs) of the profile's clock (startTime/endTime are on it). */
export interface Window {
  readonly fromUs: number;
  readonly toUs: number;
}

export function summarize(profile: CpuProfile, window?: Window, top = 25): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfFn = new Map<string, number>();
  const selfFile = new Map<string, number>();
  const inclFile = new Map<string, number>();
  const inclWeft = new Map<string, number>();
  const add = (m: Map<string, number>, k: string, us: number): void => void m.set(k, (m.get(k) ?? 0) + us);
  let totalUs = 0;
  let idleUs = 0;
  let gcUs = 0;
  let clock = profile.startTime;
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    clock += us;
    const node = byId.get(id);
    if (!node || (window && (clock < window.fromUs || clock >= window.toUs))) return;
    totalUs += us;
    const fn = node.callFrame.functionName;
    if (fn === '(idle)') return void (idleUs += us);
    if (fn === '(garbage collector)') gcUs += us;
    add(selfFn, frameName(node.callFrame), us);
    add(selfFile, node.callFrame.url ? shortFile(node.callFrame.url) : fn, us);
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const f = byId.get(at)?.callFrame;
      if (!f?.url) continue;
      const file = shortFile(f.url);
      if (!seen.has(file)) add(inclFile, file, us);
      seen.add(file);
      const fn = frameName(f);
      if (isWeftFrame(f.url) && !seen.has(fn)) add(inclWeft, fn, us);
      seen.add(fn);
    }
  });
  return { totalMs: totalUs / 1000, idleMs: idleUs / 1000, gcMs: gcUs / 1000, selfByFunction: sorted(selfFn, top), selfByFile: sorted(selfFile, top), inclusiveByFile: sorted(inclFile, top), inclusiveWeft: sorted(inclWeft, top) };
}

/**
 * A Markdown report of one profile. Samples measure wall time while the thread was not idle; on a
 * busy machine that includes time the process waited for a CPU, so each entry's share of the busy
 * samples is applied to `cpuUsPerRequest` (measured from /proc over the same window) to give µs
 * of CPU per request.
 */
export function renderSummary(title: string, s: ProfileSummary, requests: number, cpuUsPerRequest: number, top = 15): string {
  const busy = s.totalMs - s.idleMs;
  const perReq = (ms: number): string => ((ms / busy) * cpuUsPerRequest).toFixed(1);
  const pct = (ms: number): string => ((100 * ms) / busy).toFixed(1);
  const table = (head: string, entries: readonly Entry[]): string[] => [
    `| ${head} | ms | µs/req | % of busy |`,
    '| --- | ---: | ---: | ---: |',
    ...entries.slice(0, top).map((e) => `| \`${e.name}\` | ${e.ms.toFixed(0)} | ${perReq(e.ms)} | ${pct(e.ms)} |`),
  ];
  return [
    `#### ${title}`,
    '',
    `Sampled ${(s.totalMs / 1000).toFixed(1)} s, main thread busy ${(busy / 1000).toFixed(1)} s (idle ${(s.idleMs / 1000).toFixed(1)} s), ${requests} requests, ` +
      `**${cpuUsPerRequest.toFixed(0)} µs of CPU per request** (all threads, /proc), of which garbage collection ${perReq(s.gcMs)} µs.`,
    '',
    ...table('self time, function', s.selfByFunction),
    '',
    ...table('self time, file', s.selfByFile),
    '',
    ...table('inclusive time, file (once per sample)', s.inclusiveByFile),
    '',
    ...table("inclusive time, Weft's own functions", s.inclusiveWeft),
    '',
  ].join('\n');
}
