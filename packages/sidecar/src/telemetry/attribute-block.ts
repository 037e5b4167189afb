import { writeAttributes } from './otlp-attributes';
import { ProtoWriter } from './otlp-proto-writer';
import type { SpanAttributes } from './trace';

/** `attributes` of an OTLP Span message. */
const SPAN_ATTRIBUTES_FIELD = 9;

/**
 * Span attributes that many spans share, encoded once as their OTLP `KeyValue` entries: a
 * route rule's (its `http.route`, destination, peer identity), a connection's (the caller's
 * identity and addresses). A recorded span made with a block carries only its own attributes as
 * an object; its encoding copies the block's bytes where those attributes would be written, so
 * the shared keys and values are neither put into an object per span nor walked and encoded per
 * span. Immutable; made once per compiled rule and once per connection, never per request.
 */
export class AttributeBlock {
  /** The same attributes as an object, in the order of their bytes (what a span object shows). */
  readonly attributes: Readonly<SpanAttributes>;
  /** The KeyValue entries, each with its Span field tag: copied as they are into a span's encoding. */
  readonly bytes: Buffer;
  readonly #keys: readonly string[];

  constructor(attributes: SpanAttributes) {
    this.attributes = Object.freeze({ ...attributes });
    this.#keys = Object.keys(this.attributes);
    const w = new ProtoWriter(512);
    writeAttributes(w, this.attributes, SPAN_ATTRIBUTES_FIELD);
    this.bytes = Buffer.from(w.buffer.subarray(0, w.pos));
  }

  /**
   * Whether a span's own attributes set one of these keys again. The span object then shows the
   * key once, where the block has it, with the span's value, and is encoded key by key as shown.
   */
  overlaps(own: Readonly<SpanAttributes>): boolean {
    // The block's few keys looked up in the span's object: no walk over the span's keys.
    const keys = this.#keys;
    for (let i = 0; i < keys.length; i++) if (Object.prototype.hasOwnProperty.call(own, keys[i] as string)) return true;
    return false;
  }
}
