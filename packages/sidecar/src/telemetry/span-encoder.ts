import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { EncodedSpan } from './encoded-span';
import { ProtoWriter } from './otlp-proto-writer';
import { writeSpan } from './otlp-trace-encoder';

/** A new slab when less than this is left: a recorded span is 300-700 bytes. */
const SLAB_BYTES = 64 * 1024;
const MIN_FREE = 4 * 1024;

/**
 * Writes ended spans one after the other into slabs of 64 KiB. A slab is never written over: when
 * it is nearly full the next span starts a new one, and a slab is freed once no queued span
 * points into it (at most the queue's spans' worth, about 1.3 MB for 2048).
 */
export class SpanEncoder {
  readonly #writer = new ProtoWriter(SLAB_BYTES);

  encode(span: ReadableSpan): EncodedSpan {
    const w = this.#writer;
    if (w.free() < MIN_FREE) w.restart(SLAB_BYTES);
    const start = w.pos;
    writeSpan(w, span);
    return new EncodedSpan(span.resource, span.instrumentationScope, w.buffer, start, w.pos);
  }
}
