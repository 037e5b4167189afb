import { TraceFlags, type SpanContext } from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { ProtoWriter } from './otlp-proto-writer';
import type { Slab } from './span-slabs';

/**
 * A span already written as its OTLP `Span` message when it ended: what waits in the batch
 * processor's queue instead of the span itself. A recorded span with its attributes, ids, times
 * and strings is several hundred bytes of objects that lived until their batch was exported (up
 * to a second): long enough to be copied by the scavenges in between and promoted, so at 100%
 * sampling their garbage collection was a large part of a span's cost. This is one small object
 * pointing at bytes in a shared slab outside the JavaScript heap, reused once they are exported.
 *
 * The batch processor reads of it only what it reads of any span (`spanContext().traceFlags`,
 * `resource`), the exporter's metrics only the batch's length, and `encodeTraceExport` (the
 * exporter's serializer, see `useWeftEncoder`) copies the bytes where it would have written the
 * span: the export request is byte for byte the same.
 */
export class EncodedSpan {
  #copied = false;

  constructor(
    readonly resource: Resource,
    readonly instrumentationScope: InstrumentationScope,
    readonly slab: Slab,
    /** The slab's generation when the span was written: it changes when the slab is reused. */
    readonly generation: number,
    readonly start: number,
    readonly end: number,
  ) {}

  spanContext(): SpanContext {
    return SAMPLED_CONTEXT;
  }

  /**
   * Copies the span's bytes into an export request; after the first time its slab may be reused. The
   * exporter serializes each batch once (a retry sends the same request bytes again).
   */
  copyInto(w: ProtoWriter): void {
    const slab = this.slab;
    if (slab.generation !== this.generation) throw new Error('an encoded span was exported twice: its bytes were already reused');
    w.raw(slab.buffer, this.start, this.end);
    if (this.#copied) return;
    this.#copied = true;
    slab.release();
  }
}

/** Only recorded (sampled) spans are encoded; the processor checks the flag and nothing else. */
const SAMPLED_CONTEXT: SpanContext = Object.freeze({ traceId: '', spanId: '', traceFlags: TraceFlags.SAMPLED });

/** The processor's queue holds spans of both kinds alike; the cast is the one place they meet. */
export function asQueued(span: EncodedSpan): ReadableSpan {
  return span as unknown as ReadableSpan;
}
