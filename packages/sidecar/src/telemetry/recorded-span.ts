import { SpanKind, SpanStatusCode, TraceFlags, type HrTime, type Link, type SpanContext, type SpanStatus } from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan, SpanProcessor, TimedEvent } from '@opentelemetry/sdk-trace-base';
import type { SpanAttributes, SpanAttributesOf, TraceSpan } from './trace';
import { newSpanId } from './trace-ids';
import { wallClockNow } from './wall-clock';

/** What every span of one tracer provider shares: where it goes, and who made it. */
export interface SpanSink {
  readonly processor: Pick<SpanProcessor, 'onEnd'>;
  readonly resource: Resource;
  readonly scope: InstrumentationScope;
}

const UNSET: SpanStatus = Object.freeze({ code: SpanStatusCode.UNSET });
const NO_LINKS: Link[] = [];
const NO_EVENTS: TimedEvent[] = [];

/**
 * A recorded span, written for the one thing a sidecar does with it: hand it, ended, to the
 * export pipeline (as the `ReadableSpan` the SDK's batch processor and the OTLP encoder read).
 * The SDK's own Span checks and copies every attribute, keeps its own clock and limits, and is
 * several times larger. With the OTLP exporter the span is encoded when it ends and only its
 * bytes wait for the batch (`EncodedSpan`), so it dies young, in the request's own garbage. Here the
 * attributes come from Weft's own code (strings, numbers and booleans by type), ids from the
 * sidecar's id pool, and times from the wall-anchored clock.
 */
export class RecordedSpan implements TraceSpan, ReadableSpan {
  readonly traceId: string;
  readonly traceparent: string;
  readonly recording = true;
  readonly name: string;
  readonly kind: SpanKind;
  readonly parentSpanContext: SpanContext | undefined;
  readonly startTime: HrTime;
  endTime: HrTime;
  duration: HrTime;
  status: SpanStatus = UNSET;
  readonly attributes: SpanAttributes;
  links: Link[] = NO_LINKS;
  events: TimedEvent[] = NO_EVENTS;
  ended = false;
  readonly droppedAttributesCount = 0;
  readonly droppedEventsCount = 0;
  readonly droppedLinksCount = 0;
  readonly #context: SpanContext;
  readonly #sink: SpanSink;

  constructor(sink: SpanSink, name: string, kind: SpanKind, traceId: string, parent: SpanContext | undefined, attributes: SpanAttributes) {
    this.#sink = sink;
    this.name = name;
    this.kind = kind;
    this.traceId = traceId;
    this.parentSpanContext = parent;
    this.attributes = attributes;
    const spanId = newSpanId();
    this.#context = { traceId, spanId, traceFlags: TraceFlags.SAMPLED };
    this.traceparent = `00-${traceId}-${spanId}-01`;
    this.startTime = wallClockNow();
    this.endTime = this.startTime;
    this.duration = [0, 0];
  }

  get resource(): Resource {
    return this.#sink.resource;
  }

  get instrumentationScope(): InstrumentationScope {
    return this.#sink.scope;
  }

  spanContext(): SpanContext {
    return this.#context;
  }

  setAttributes(attributes: SpanAttributes): void {
    if (!this.ended) Object.assign(this.attributes, attributes);
  }

  addEvent(name: string, attributes: SpanAttributes): void {
    if (this.ended) return;
    if (this.events === NO_EVENTS) this.events = [];
    this.events.push({ name, attributes, time: wallClockNow(), droppedAttributesCount: 0 });
  }

  child<S>(name: string, attributesOf: SpanAttributesOf<S>, subject: S): TraceSpan {
    return new RecordedSpan(this.#sink, name, SpanKind.CLIENT, this.traceId, this.#context, attributesOf(subject));
  }

  end(status: number | undefined, error?: string): void {
    if (this.ended) return;
    this.ended = true;
    if (status !== undefined) this.attributes['http.response.status_code'] = status;
    if (error !== undefined || (status !== undefined && status >= 500)) {
      this.status = { code: SpanStatusCode.ERROR, message: error ?? `HTTP ${status}` };
      if (error !== undefined) this.attributes['error.type'] = error;
    }
    this.endTime = wallClockNow();
    this.duration = hrDiff(this.startTime, this.endTime);
    this.#sink.processor.onEnd(this);
  }
}

/** A remote caller's span, as the parent of a span this sidecar records. */
export function remoteParent(traceId: string, spanId: string): SpanContext {
  return { traceId, spanId, traceFlags: TraceFlags.SAMPLED, isRemote: true };
}

function hrDiff(start: HrTime, end: HrTime): HrTime {
  let seconds = end[0] - start[0];
  let nanos = end[1] - start[1];
  if (nanos < 0) {
    seconds -= 1;
    nanos += 1_000_000_000;
  }
  return [seconds, nanos];
}
