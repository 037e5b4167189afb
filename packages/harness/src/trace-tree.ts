import { STATUS_CODE, type CollectedSpan } from './otlp-spans';

/** The fields the renderer reads, so hand-made spans in tests need no more. */
export type TreeSpan = Pick<CollectedSpan, 'traceId' | 'spanId' | 'parentSpanId' | 'name' | 'startTimeUnixNano' | 'endTimeUnixNano'> &
  Partial<Pick<CollectedSpan, 'serviceName' | 'status' | 'attributes'>>;

export interface TraceTreeOptions {
  /** Attribute keys to show after the timing when a span has them (`http.response.status_code`). */
  readonly attributes?: readonly string[];
}

function ms(nanos: bigint): string {
  return `${(Number(nanos) / 1e6).toFixed(1)}ms`;
}

function signedMs(nanos: bigint): string {
  return nanos < 0n ? `-${ms(-nanos)}` : `+${ms(nanos)}`;
}

function byStart(a: TreeSpan, b: TreeSpan): number {
  if (a.startTimeUnixNano !== b.startTimeUnixNano) return a.startTimeUnixNano < b.startTimeUnixNano ? -1 : 1;
  return a.name.localeCompare(b.name);
}

function describe(span: TreeSpan): string {
  let text = span.name;
  if (span.serviceName) text += ` [${span.serviceName}]`;
  text += `  ${ms(span.endTimeUnixNano - span.startTimeUnixNano)}`;
  return text;
}

function suffix(span: TreeSpan, options: TraceTreeOptions): string {
  let text = '';
  for (const key of options.attributes ?? []) {
    const value = span.attributes?.[key];
    if (value !== undefined) text += `  ${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`;
  }
  if (span.status?.code === STATUS_CODE.ERROR) text += `  ERROR${span.status.message ? `: ${span.status.message}` : ''}`;
  return text;
}

function renderTrace(spans: readonly TreeSpan[], options: TraceTreeOptions): string[] {
  const ids = new Set(spans.map((s) => s.spanId));
  const children = new Map<string, TreeSpan[]>();
  const roots: TreeSpan[] = [];
  for (const span of spans) {
    if (span.parentSpanId && ids.has(span.parentSpanId) && span.parentSpanId !== span.spanId) {
      const list = children.get(span.parentSpanId) ?? [];
      list.push(span);
      children.set(span.parentSpanId, list);
    } else {
      roots.push(span);
    }
  }
  const lines: string[] = [];
  const seen = new Set<TreeSpan>();
  const walk = (span: TreeSpan, depth: number, parent: TreeSpan | undefined): void => {
    if (seen.has(span)) return; // a malformed trace with a cycle must not hang the renderer
    seen.add(span);
    let line = `${'  '.repeat(depth)}${describe(span)}`;
    if (parent) line += ` (${signedMs(span.startTimeUnixNano - parent.startTimeUnixNano)})`;
    else if (span.parentSpanId) line += ` (parent ${span.parentSpanId} not received)`;
    lines.push(line + suffix(span, options));
    for (const child of (children.get(span.spanId) ?? []).sort(byStart)) walk(child, depth + 1, span);
  };
  for (const root of roots.sort(byStart)) walk(root, 0, undefined);
  return lines;
}

/**
 * Renders spans as one indented tree per trace: each line is a span's name, its service, its
 * duration and its start offset from its parent, e.g.
 *
 *     trace 4bf92f3577b34da6a3ce929d0e0e4736 (2 spans)
 *     outbound orders [frontend]  12.3ms
 *       inbound orders [orders]  9.8ms (+1.1ms)
 *
 * Spans whose parent was not received are shown as roots and say so.
 */
export function renderTraceTree(spans: readonly TreeSpan[], options: TraceTreeOptions = {}): string {
  const traces = new Map<string, TreeSpan[]>();
  for (const span of spans) {
    const list = traces.get(span.traceId) ?? [];
    list.push(span);
    traces.set(span.traceId, list);
  }
  const ordered = [...traces.entries()].sort(([, a], [, b]) => byStart([...a].sort(byStart)[0] as TreeSpan, [...b].sort(byStart)[0] as TreeSpan));
  return ordered
    .map(([traceId, list]) => [`trace ${traceId} (${list.length} span${list.length === 1 ? '' : 's'})`, ...renderTrace(list, options)].join('\n'))
    .join('\n\n')
    .concat(ordered.length > 0 ? '\n' : '');
}
