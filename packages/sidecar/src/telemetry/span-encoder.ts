import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { EncodedSpan } from './encoded-span';
import { ProtoWriter } from './otlp-proto-writer';
import { writeSpan } from './otlp-trace-encoder';
import { SpanSlabs, type Slab } from './span-slabs';

/** A new slab when less than this is left: a recorded span is 300-700 bytes. */
const SLAB_BYTES = 64 * 1024;
const MIN_FREE = 4 * 1024;
/** Free slabs kept for reuse (256 KiB): a batch of 512 spans fills about four. */
const KEEP_FREE = 4;

/**
 * Writes ended spans one after the other into slabs of 64 KiB. A slab is never written over
 * while a queued span points into it: when it is nearly full the next span starts another, and a
 * slab is reused (SpanSlabs) once every span in it has been copied into an export request.
 */
export class SpanEncoder {
  readonly #slabs = new SpanSlabs(SLAB_BYTES, KEEP_FREE);
  #slab: Slab | undefined;
  readonly #writer = new ProtoWriter(0);

  encode(span: ReadableSpan): EncodedSpan {
    const w = this.#writer;
    let slab = this.#slab;
    if (slab === undefined || w.free() < MIN_FREE) {
      slab?.seal();
      slab = this.#slab = this.#slabs.take();
      w.restartIn(slab.buffer);
    }
    const start = w.pos;
    writeSpan(w, span);
    if (w.buffer !== slab.buffer) {
      // The span did not fit: the writer moved everything to a larger buffer, which now goes on
      // as this encoder's slab (spans already encoded still point into the old one).
      slab.seal();
      slab = this.#slab = this.#slabs.adopt(w.buffer);
    }
    slab.hold();
    return new EncodedSpan(span.resource, span.instrumentationScope, slab, slab.generation, start, w.pos);
  }
}
