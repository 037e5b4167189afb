import * as api from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import * as tracing from '@opentelemetry/sdk-trace-base';
import type { Logger } from '@weft/api';
import { EXPORT_TIMEOUT_MS, otlpExporterFor, takesEncodedSpans, type ExporterFactory } from './otlp-exporter';
import { asQueued } from './encoded-span';
import { withRequestWriter } from './request-writers';
import { SpanEncoder } from './span-encoder';
import { newSpanId, newTraceId } from './trace-ids';
import { SAMPLING_DEFERRED, type TraceParent } from './traceparent';
import { RecordedSpan, remoteParent, type SpanSink } from './recorded-span';

export type SpanAttributes = Record<string, string | number | boolean>;

/** Attributes of a span, computed from `subject` only when the span is recorded: a new object each time (the span adds to it). */
export type SpanAttributesOf<S> = (subject: S) => SpanAttributes;

/** A span as the data path sees it: ids to propagate, attributes, children, one end. */
export interface TraceSpan {
  readonly traceId: string;
  /** What the next hop receives as `traceparent` so that it continues this span. */
  readonly traceparent: string;
  /**
   * Whether anything is recorded. An unsampled request's span only carries ids (no SDK span):
   * attributes, events and its end are no-ops, so layers may skip what only feeds them.
   */
  readonly recording: boolean;
  setAttributes(attributes: SpanAttributes): void;
  /** Something that happened during the span (a retry); a no-op when the span is not sampled. */
  addEvent(name: string, attributes: SpanAttributes): void;
  /** A child span, e.g. one per retry attempt under the CLIENT span. */
  child<S>(name: string, attributesOf: SpanAttributesOf<S>, subject: S): TraceSpan;
  /** Ends the span (once; later calls are ignored). A status of 500 or more marks it as an error. */
  end(status: number | undefined, error?: string): void;
}

export interface TracingSettings {
  /** `host:port` of an OTLP/gRPC receiver; empty: ids and the sampled flag propagate, nothing is recorded. */
  readonly otlpEndpoint: string;
  readonly samplingPercent: number;
  /** Spans held for export at most (queued or being sent); default `BATCH.maxQueueSize`. */
  readonly maxQueueSize?: number;
  readonly compression?: 'gzip' | 'none';
}

export type { ExporterFactory } from './otlp-exporter';

/** Why spans were dropped (`weft_spans_dropped_total{reason}`). */
export type SpanDropReason = 'queue_full' | 'export_failed';

/**
 * The exporter queue: bounded, so a dead or slow collector costs memory up to `maxQueueSize`
 * spans (queued or in an export not yet answered) and then new spans are dropped and counted.
 */
const BATCH = Object.freeze({ maxQueueSize: 2048, maxExportBatchSize: 512, scheduledDelayMillis: 1000, exportTimeoutMillis: EXPORT_TIMEOUT_MS });
/** How long shutdown waits for the last batch before giving up on it. */
const SHUTDOWN_GRACE_MS = 3000;

/** Bit 0 of the trace flags. */
const SAMPLED = 1;

/**
 * Decides sampling itself and owns the export pipeline for the spans it records: the SDK's
 * batch processor (bounded, see BoundedSpanProcessor) and the OTLP/gRPC exporter. Sampling is
 * parent-based: a caller's sampled context is recorded, an unsampled one is not, and a new trace
 * is recorded with probability `samplingPercent`. A recorded span is a RecordedSpan, which the
 * processor and the exporter read as any SDK span; every other request gets a `PropagatedSpan`
 * (ids and a traceparent, nothing else), which is what most requests are at the default 1%.
 *
 * Nothing is registered globally: context travels by hand in `traceparent`, so two sidecars in
 * one process (as in tests) never share state. `configure` rebuilds the pipeline only when the
 * endpoint, the sampling or the queue changes, and there is none without an endpoint.
 */
export class Tracing {
  readonly #resource: Resource;
  readonly #log: Logger;
  readonly #exporterFor: ExporterFactory;
  readonly #onDropped: (spans: number, reason: SpanDropReason) => void;
  #settingsKey = '';
  #ratio = 1;
  #sink: Pipeline | undefined;

  constructor(resourceAttributes: SpanAttributes, log: Logger, exporterFor: ExporterFactory = otlpExporterFor(undefined), onDropped: (spans: number, reason: SpanDropReason) => void = () => undefined) {
    this.#resource = resourceFromAttributes(resourceAttributes);
    this.#log = log;
    this.#exporterFor = exporterFor;
    this.#onDropped = onDropped;
  }

  configure(settings: TracingSettings): void {
    const maxQueueSize = settings.maxQueueSize ?? BATCH.maxQueueSize;
    const compression = settings.compression ?? 'none';
    const key = `${settings.otlpEndpoint}|${settings.samplingPercent}|${maxQueueSize}|${compression}`;
    if (key === this.#settingsKey) return;
    this.#settingsKey = key;
    this.#ratio = Math.min(100, Math.max(0, settings.samplingPercent)) / 100;
    const old = this.#sink;
    this.#sink = settings.otlpEndpoint ? this.#build(settings.otlpEndpoint, maxQueueSize, compression) : undefined;
    // Spans already queued on the old pipeline are flushed in the background; a request never waits.
    void old?.processor.shutdown().catch((err: unknown) => this.#log.debug('span processor shutdown failed', { error: err }));
  }

  /**
   * Starts a span continuing `parent` (a remote span), or a new trace when there is none. The
   * attributes are computed (`attributesOf(subject)`) only for a span that is recorded.
   */
  startSpan<S>(name: string, kind: 'client' | 'server', parent: TraceParent | undefined, attributesOf: SpanAttributesOf<S>, subject: S): TraceSpan {
    const sampled = parent === undefined || (parent.flags & SAMPLING_DEFERRED) !== 0 ? Math.random() < this.#ratio : (parent.flags & SAMPLED) !== 0;
    const sink = this.#sink;
    if (!sampled || sink === undefined) return new PropagatedSpan(parent ? parent.traceId : newTraceId(), sampled);
    const spanKind = kind === 'client' ? api.SpanKind.CLIENT : api.SpanKind.SERVER;
    return new RecordedSpan(sink, name, spanKind, parent ? parent.traceId : newTraceId(), parent ? remoteParent(parent.traceId, parent.spanId) : undefined, attributesOf(subject));
  }

  /** Flushes what is buffered, bounded in time; never throws. */
  async shutdown(): Promise<void> {
    const sink = this.#sink;
    if (!sink) return;
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, SHUTDOWN_GRACE_MS);
      timer.unref();
    });
    await Promise.race([sink.processor.shutdown().catch((err: unknown) => this.#log.debug('span processor shutdown failed', { error: err })), grace]);
    clearTimeout(timer);
  }

  #build(otlpEndpoint: string, maxQueueSize: number, compression: 'gzip' | 'none'): Pipeline {
    const bound = new BoundedQueue(maxQueueSize, this.#onDropped);
    const real = this.#exporterFor(otlpEndpoint, { compression });
    const exporter = new QuietExporter(real, this.#log, bound, this.#onDropped);
    // A batch at most a quarter of the queue (512 of the default 2048, as the SDK's own defaults):
    // spans in an unanswered export count against the queue, so a batch as large as the queue
    // dropped every span that ended while it was in flight, with the collector up and healthy.
    const maxExportBatchSize = Math.max(1, Math.min(BATCH.maxExportBatchSize, Math.floor(maxQueueSize / 4)));
    const batch = new tracing.BatchSpanProcessor(exporter, { ...BATCH, maxQueueSize, maxExportBatchSize });
    const encoder = takesEncodedSpans(real) ? new SpanEncoder() : undefined;
    return { processor: new BoundedSpanProcessor(batch, bound, encoder), resource: this.#resource, scope: SCOPE };
  }
}

/** Where recorded spans go: the bounded batch processor in front of the exporter. */
type Pipeline = SpanSink & { readonly processor: tracing.SpanProcessor };

/** Who made the spans, as OTLP names it (`scope.name`). */
const SCOPE = Object.freeze({ name: 'weft-sidecar' });

/**
 * The span of a request that is not recorded: a new span ID for this hop under the caller's trace
 * (or a new trace), so the next hop and the access log still correlate. `sampled` is set only
 * when the trace is sampled but this sidecar has no collector to record it: the flag travels on
 * for hops that do.
 */
class PropagatedSpan implements TraceSpan {
  readonly traceparent: string;
  readonly recording = false;

  constructor(
    readonly traceId: string,
    readonly sampled: boolean,
  ) {
    this.traceparent = `00-${traceId}-${newSpanId()}${sampled ? '-01' : '-00'}`;
  }

  setAttributes(): void {}

  addEvent(): void {}

  child(): TraceSpan {
    return new PropagatedSpan(this.traceId, this.sampled);
  }

  end(): void {}
}

/**
 * How many spans a provider holds: taken when a span ends, given back when the export carrying
 * it is answered (or fails). The batch processor's own queue is as large, so it never drops
 * anything itself; every span lost is counted here.
 */
class BoundedQueue {
  #held = 0;

  constructor(
    readonly max: number,
    readonly onDropped: (spans: number, reason: SpanDropReason) => void,
  ) {}

  take(): boolean {
    if (this.#held >= this.max) {
      this.onDropped(1, 'queue_full');
      return false;
    }
    this.#held += 1;
    return true;
  }

  release(spans: number): void {
    this.#held = Math.max(0, this.#held - spans);
  }
}

/**
 * Hands a span to the batch processor only when the bounded queue has room for it: encoded first
 * (see EncodedSpan) when the exporter serializes with Weft's encoder, so only its bytes wait for
 * the batch. Spans are encoded once per turn of the event loop, all those that ended in it
 * together: encoding each one alone as it ended ran the encoder with cold caches between
 * requests, and on a loaded host cost more than it saved; at the end of the turn the spans are
 * still young (no scavenge has copied them) and are dropped before the next.
 */
class BoundedSpanProcessor implements tracing.SpanProcessor {
  readonly #ended: tracing.ReadableSpan[] = [];
  #scheduled = false;

  constructor(
    readonly inner: tracing.SpanProcessor,
    readonly bound: BoundedQueue,
    readonly encoder: SpanEncoder | undefined,
  ) {}

  onStart(span: tracing.Span, parentContext: api.Context): void {
    this.inner.onStart(span, parentContext);
  }

  onEnd(span: tracing.ReadableSpan): void {
    if (!this.bound.take()) return;
    if (!this.encoder) {
      this.inner.onEnd(span);
      return;
    }
    this.#ended.push(span);
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(this.#encodeEnded);
  }

  readonly #encodeEnded = (): void => {
    this.#scheduled = false;
    const encoder = this.encoder;
    const ended = this.#ended;
    if (!encoder) return;
    for (let i = 0; i < ended.length; i++) this.inner.onEnd(asQueued(encoder.encode(ended[i] as tracing.ReadableSpan)));
    ended.length = 0;
  };

  forceFlush(): Promise<void> {
    this.#encodeEnded();
    return this.inner.forceFlush();
  }

  shutdown(): Promise<void> {
    this.#encodeEnded();
    return this.inner.shutdown();
  }
}

/**
 * Wraps the real exporter so that a failed export is a debug line and nothing else: it reports
 * success to the batch processor, which would otherwise hand the error to OpenTelemetry's global
 * error handler. Exporting never blocks or fails a request; losing spans is the accepted cost.
 */
class QuietExporter implements tracing.SpanExporter {
  readonly #inner: tracing.SpanExporter;
  readonly #log: Logger;
  readonly #bound: BoundedQueue;
  readonly #onDropped: (spans: number, reason: SpanDropReason) => void;

  constructor(inner: tracing.SpanExporter, log: Logger, bound: BoundedQueue, onDropped: (spans: number, reason: SpanDropReason) => void) {
    this.#inner = inner;
    this.#log = log;
    this.#bound = bound;
    this.#onDropped = onDropped;
  }

  export(spans: tracing.ReadableSpan[], done: (result: ExportResult) => void): void {
    const failed = (error: unknown): void => {
      this.#log.debug('span export failed; spans dropped', { spans: spans.length, error });
      this.#onDropped(spans.length, 'export_failed');
    };
    // The request's buffer is the export's until it is answered (see request-writers).
    withRequestWriter((answered) => {
      try {
        this.#inner.export(spans, (result) => {
          answered();
          this.#bound.release(spans.length);
          if (result.code !== ExportResultCode.SUCCESS) failed(result.error);
          done({ code: ExportResultCode.SUCCESS });
        });
      } catch (err) {
        answered();
        this.#bound.release(spans.length);
        failed(err);
        done({ code: ExportResultCode.SUCCESS });
      }
    });
  }

  shutdown(): Promise<void> {
    return this.#inner.shutdown().catch((err: unknown) => this.#log.debug('span exporter shutdown failed', { error: err }));
  }

  forceFlush(): Promise<void> {
    return (this.#inner.forceFlush?.() ?? Promise.resolve()).catch((err: unknown) => this.#log.debug('span flush failed', { error: err }));
  }
}
