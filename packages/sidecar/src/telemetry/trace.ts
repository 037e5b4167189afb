import * as api from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import * as tracing from '@opentelemetry/sdk-trace-base';
import type { Logger } from '@weft/api';
import { formatTraceParent, type TraceParent } from './traceparent';
import { wallClockNow } from './wall-clock';

export type SpanAttributes = Record<string, string | number | boolean>;

/** A span as the data path sees it: ids to propagate, attributes, children, one end. */
export interface TraceSpan {
  readonly traceId: string;
  /** What the next hop receives as `traceparent` so that it continues this span. */
  readonly traceparent: string;
  setAttributes(attributes: SpanAttributes): void;
  /** Something that happened during the span (a retry); a no-op when the span is not sampled. */
  addEvent(name: string, attributes: SpanAttributes): void;
  /** A child span, e.g. one per retry attempt under the CLIENT span. */
  child(name: string, attributes: SpanAttributes): TraceSpan;
  /** Ends the span (once; later calls are ignored). A status of 500 or more marks it as an error. */
  end(status: number | undefined, error?: string): void;
}

export interface TracingSettings {
  /** `host:port` of an OTLP/gRPC receiver; empty: spans are made (ids propagate) but not exported. */
  readonly otlpEndpoint: string;
  readonly samplingPercent: number;
}

/** Builds the exporter for an endpoint; tests may hand in an in-memory one. */
export type ExporterFactory = (otlpEndpoint: string) => tracing.SpanExporter;

/** The exporter queue: bounded, so a dead collector costs memory up to here and then drops spans. */
const BATCH = Object.freeze({ maxQueueSize: 2048, maxExportBatchSize: 512, scheduledDelayMillis: 1000, exportTimeoutMillis: 10_000 });
/** How long shutdown waits for the last batch before giving up on it. */
const SHUTDOWN_GRACE_MS = 3000;

/**
 * Owns an OpenTelemetry tracer provider that is never registered globally: context travels by
 * hand in `traceparent`, so two sidecars in one process (as in tests) never share state.
 * `configure` rebuilds the provider only when the endpoint or the sampling changes.
 */
export class Tracing {
  readonly #resource: Resource;
  readonly #log: Logger;
  readonly #exporterFor: ExporterFactory;
  #settingsKey = '';
  #provider: tracing.BasicTracerProvider;
  #tracer: api.Tracer;

  constructor(resourceAttributes: SpanAttributes, log: Logger, exporterFor: ExporterFactory = otlpExporter) {
    this.#resource = resourceFromAttributes(resourceAttributes);
    this.#log = log;
    this.#exporterFor = exporterFor;
    this.#provider = this.#build({ otlpEndpoint: '', samplingPercent: 100 });
    this.#tracer = this.#provider.getTracer('weft-sidecar');
  }

  configure(settings: TracingSettings): void {
    const key = `${settings.otlpEndpoint}|${settings.samplingPercent}`;
    if (key === this.#settingsKey) return;
    this.#settingsKey = key;
    const old = this.#provider;
    this.#provider = this.#build(settings);
    this.#tracer = this.#provider.getTracer('weft-sidecar');
    // Spans already queued on the old provider are flushed in the background; a request never waits.
    void old.shutdown().catch((err: unknown) => this.#log.debug('tracer provider shutdown failed', { error: err }));
  }

  /** Starts a span continuing `parent` (a remote span), or a new trace when there is none. */
  startSpan(name: string, kind: 'client' | 'server', parent: TraceParent | undefined, attributes: SpanAttributes): TraceSpan {
    const ctx = parent
      ? api.trace.setSpanContext(api.ROOT_CONTEXT, { traceId: parent.traceId, spanId: parent.spanId, traceFlags: parent.flags, isRemote: true })
      : api.ROOT_CONTEXT;
    const spanKind = kind === 'client' ? api.SpanKind.CLIENT : api.SpanKind.SERVER;
    return new OtelSpan(this.#tracer, this.#tracer.startSpan(name, { kind: spanKind, attributes, startTime: wallClockNow() }, ctx));
  }

  /** Flushes what is buffered, bounded in time; never throws. */
  async shutdown(): Promise<void> {
    const provider = this.#provider;
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, SHUTDOWN_GRACE_MS);
      timer.unref();
    });
    await Promise.race([provider.shutdown().catch((err: unknown) => this.#log.debug('tracer shutdown failed', { error: err })), grace]);
    clearTimeout(timer);
  }

  #build(settings: TracingSettings): tracing.BasicTracerProvider {
    const ratio = Math.min(100, Math.max(0, settings.samplingPercent)) / 100;
    const spanProcessors = settings.otlpEndpoint
      ? [new tracing.BatchSpanProcessor(new QuietExporter(this.#exporterFor(settings.otlpEndpoint), this.#log), BATCH)]
      : [];
    return new tracing.BasicTracerProvider({
      resource: this.#resource,
      sampler: new tracing.ParentBasedSampler({ root: new tracing.TraceIdRatioBasedSampler(ratio) }),
      spanProcessors,
    });
  }
}

/**
 * The OTLP/gRPC exporter, loaded on first use: it brings in the OTLP transformer and, through it,
 * the metrics and logs SDKs (about 200 files, 3 MB of heap), which a sidecar without a collector
 * never needs.
 */
function otlpExporter(otlpEndpoint: string): tracing.SpanExporter {
  const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-grpc') as typeof import('@opentelemetry/exporter-trace-otlp-grpc');
  return new OTLPTraceExporter({ url: `http://${otlpEndpoint}`, timeoutMillis: BATCH.exportTimeoutMillis });
}

class OtelSpan implements TraceSpan {
  readonly #tracer: api.Tracer;
  readonly #span: api.Span;
  #ended = false;
  readonly traceId: string;
  readonly traceparent: string;

  constructor(tracer: api.Tracer, span: api.Span) {
    this.#tracer = tracer;
    this.#span = span;
    const sc = span.spanContext();
    this.traceId = sc.traceId;
    this.traceparent = formatTraceParent({ traceId: sc.traceId, spanId: sc.spanId, flags: sc.traceFlags });
  }

  setAttributes(attributes: SpanAttributes): void {
    this.#span.setAttributes(attributes);
  }

  addEvent(name: string, attributes: SpanAttributes): void {
    this.#span.addEvent(name, attributes, wallClockNow());
  }

  child(name: string, attributes: SpanAttributes): TraceSpan {
    const ctx = api.trace.setSpan(api.ROOT_CONTEXT, this.#span);
    return new OtelSpan(this.#tracer, this.#tracer.startSpan(name, { kind: api.SpanKind.CLIENT, attributes, startTime: wallClockNow() }, ctx));
  }

  end(status: number | undefined, error?: string): void {
    if (this.#ended) return;
    this.#ended = true;
    if (status !== undefined) this.#span.setAttribute('http.response.status_code', status);
    if (error !== undefined || (status !== undefined && status >= 500)) {
      this.#span.setStatus({ code: api.SpanStatusCode.ERROR, message: error ?? `HTTP ${status}` });
      if (error !== undefined) this.#span.setAttribute('error.type', error);
    }
    this.#span.end(wallClockNow());
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

  constructor(inner: tracing.SpanExporter, log: Logger) {
    this.#inner = inner;
    this.#log = log;
  }

  export(spans: tracing.ReadableSpan[], done: (result: ExportResult) => void): void {
    try {
      this.#inner.export(spans, (result) => {
        if (result.code !== ExportResultCode.SUCCESS) {
          this.#log.debug('span export failed; spans dropped', { spans: spans.length, error: result.error });
        }
        done({ code: ExportResultCode.SUCCESS });
      });
    } catch (err) {
      this.#log.debug('span export threw; spans dropped', { spans: spans.length, error: err });
      done({ code: ExportResultCode.SUCCESS });
    }
  }

  shutdown(): Promise<void> {
    return this.#inner.shutdown().catch((err: unknown) => this.#log.debug('span exporter shutdown failed', { error: err }));
  }

  forceFlush(): Promise<void> {
    return (this.#inner.forceFlush?.() ?? Promise.resolve()).catch((err: unknown) => this.#log.debug('span flush failed', { error: err }));
  }
}
