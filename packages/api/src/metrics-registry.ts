/**
 * A small Prometheus registry: counters, gauges and histograms with labels, rendered in the text
 * exposition format (version 0.0.4). Series are keyed by their rendered label set. `inc` and
 * `observe` with labels render the set to find the series; a caller on the request path binds a
 * series once (`bind`) and keeps it, so that a request is an addition and nothing else.
 */

export type Labels = Readonly<Record<string, string>>;

type MetricType = 'counter' | 'gauge' | 'histogram';

abstract class Metric<S> {
  readonly #series = new Map<string, S>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: MetricType,
  ) {}

  protected series(labels: Labels, create: () => S): S {
    const key = renderLabels(labels);
    let s = this.#series.get(key);
    if (s === undefined) {
      for (const name in labels) if (!LABEL_RE.test(name)) throw new Error(`invalid label name "${name}" on ${this.name}`);
      s = create();
      this.#series.set(key, s);
    }
    return s;
  }

  /** Drops one series (a label set that no longer applies, such as an old version's _info). */
  remove(labels: Labels): void {
    this.#series.delete(renderLabels(labels));
  }

  render(out: string[]): void {
    out.push(`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} ${this.type}`);
    for (const [labels, s] of this.#series) this.renderSeries(out, labels, s);
  }

  protected abstract renderSeries(out: string[], labels: string, s: S): void;
}

/** One counter series, bound to its label set. */
export class CounterSeries {
  value = 0;

  inc(by = 1): void {
    this.value += by;
  }
}

export class Counter extends Metric<CounterSeries> {
  constructor(name: string, help: string) {
    super(name, help, 'counter');
  }

  inc(labels: Labels = {}, by = 1): void {
    this.bind(labels).value += by;
  }

  /** The series for `labels`, created at 0 if new; keep it to count without rendering labels again. */
  bind(labels: Labels): CounterSeries {
    return this.series(labels, () => new CounterSeries());
  }

  protected renderSeries(out: string[], labels: string, s: CounterSeries): void {
    out.push(`${this.name}${labels} ${formatValue(s.value)}`);
  }
}

export class Gauge extends Metric<{ value: number }> {
  constructor(name: string, help: string) {
    super(name, help, 'gauge');
  }

  set(labels: Labels, value: number): void {
    this.series(labels, () => ({ value: 0 })).value = value;
  }

  protected renderSeries(out: string[], labels: string, s: { value: number }): void {
    out.push(`${this.name}${labels} ${formatValue(s.value)}`);
  }
}

/** One histogram series, bound to its label set. */
export class HistogramSeries {
  /** Per bucket here, made cumulative when rendered, so that an observation is one increment. */
  readonly counts: number[];
  sum = 0;
  count = 0;

  constructor(readonly buckets: readonly number[]) {
    this.counts = new Array<number>(buckets.length).fill(0);
  }

  observe(value: number): void {
    const buckets = this.buckets;
    let i = 0;
    while (i < buckets.length && !(value <= (buckets[i] as number))) i++; // NaN falls in no bucket
    if (i < buckets.length) this.counts[i] = (this.counts[i] as number) + 1;
    this.sum += value;
    this.count += 1;
  }
}

/**
 * Latency buckets in seconds: from a sub-millisecond loopback hop to a slow upstream. The
 * sub-millisecond ones cost an observation up to three comparisons more; without them a p50 on
 * a fast path would read "somewhere under 1 ms".
 */
export const DEFAULT_BUCKETS: readonly number[] = Object.freeze([0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]);

export class Histogram extends Metric<HistogramSeries> {
  readonly #buckets: readonly number[];

  constructor(name: string, help: string, buckets: readonly number[] = DEFAULT_BUCKETS) {
    super(name, help, 'histogram');
    this.#buckets = [...buckets].sort((a, b) => a - b);
  }

  observe(labels: Labels, value: number): void {
    this.bind(labels).observe(value);
  }

  /** The series for `labels`, created empty if new; keep it to observe without rendering labels again. */
  bind(labels: Labels): HistogramSeries {
    return this.series(labels, () => new HistogramSeries(this.#buckets));
  }

  protected renderSeries(out: string[], labels: string, s: HistogramSeries): void {
    const inner = labels === '' ? '' : `${labels.slice(1, -1)},`;
    let cumulative = 0;
    this.#buckets.forEach((b, i) => {
      cumulative += s.counts[i] ?? 0;
      out.push(`${this.name}_bucket{${inner}le="${formatValue(b)}"} ${cumulative}`);
    });
    out.push(`${this.name}_bucket{${inner}le="+Inf"} ${s.count}`);
    out.push(`${this.name}_sum${labels} ${formatValue(s.sum)}`, `${this.name}_count${labels} ${s.count}`);
  }
}

type AnyMetric = Counter | Gauge | Histogram;

export class Registry {
  readonly #metrics = new Map<string, AnyMetric>();
  readonly #beforeRender: (() => void)[] = [];

  counter(name: string, help: string): Counter {
    return this.#register(name, Counter, () => new Counter(name, help));
  }

  gauge(name: string, help: string): Gauge {
    return this.#register(name, Gauge, () => new Gauge(name, help));
  }

  histogram(name: string, help: string, buckets?: readonly number[]): Histogram {
    return this.#register(name, Histogram, () => new Histogram(name, help, buckets));
  }

  /** The metric registered under `name`, if any. */
  find(name: string): Counter | Gauge | Histogram | undefined {
    return this.#metrics.get(name);
  }

  /**
   * Runs `refresh` right before each render: for values read at scrape time (process CPU and
   * memory, lifecycle state) rather than counted as they happen.
   */
  beforeRender(refresh: () => void): void {
    this.#beforeRender.push(refresh);
  }

  /** The text exposition of every metric, in registration order. */
  render(): string {
    for (const refresh of this.#beforeRender) refresh();
    const out: string[] = [];
    for (const m of this.#metrics.values()) m.render(out);
    return out.length === 0 ? '' : `${out.join('\n')}\n`;
  }

  #register<M extends AnyMetric>(name: string, kind: abstract new (...args: never[]) => M, create: () => M): M {
    const existing = this.#metrics.get(name);
    if (existing instanceof kind) return existing;
    if (existing) throw new Error(`metric "${name}" is already registered as a ${existing.type}`);
    if (!NAME_RE.test(name)) throw new Error(`invalid metric name "${name}"`);
    const m = create();
    this.#metrics.set(name, m);
    return m;
  }
}

const NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const NEEDS_ESCAPE = /[\\"\n]/;

/** `{a="x",b="y"}` in the order given, or '' without labels. */
export function renderLabels(labels: Labels): string {
  const parts: string[] = [];
  for (const name in labels) parts.push(`${name}="${escapeLabelValue(labels[name] ?? '')}"`);
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

/** Label values escape backslash, double quote and line feed (exposition format spec). */
export function escapeLabelValue(value: string): string {
  if (!NEEDS_ESCAPE.test(value)) return value;
  return value.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`));
}

function escapeHelp(help: string): string {
  return help.replace(/[\\\n]/g, (c) => (c === '\n' ? '\\n' : '\\\\'));
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}
