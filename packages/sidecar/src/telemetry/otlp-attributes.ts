import type { Attributes, AttributeValue } from '@opentelemetry/api';
import type { ProtoWriter } from './otlp-proto-writer';

/** Each attribute as a KeyValue entry of `field`, in the object's own key order (as the exporter writes them). */
export function writeAttributes(w: ProtoWriter, attributes: Attributes, field: number): void {
  for (const key in attributes) {
    if (!Object.prototype.hasOwnProperty.call(attributes, key)) continue;
    w.tag(field, 2);
    writeKeyValue(w, key, attributes[key]);
  }
}

function writeKeyValue(w: ProtoWriter, key: string, value: unknown): void {
  const at = w.beginMessage();
  w.tag(1, 2);
  w.string(key);
  w.tag(2, 2);
  const valueAt = w.beginMessage();
  writeAnyValue(w, value);
  w.endMessage(valueAt);
  w.endMessage(at);
}

const MIN_INT64 = -(2 ** 63);
const MAX_INT64 = 2 ** 63;

/** AnyValue: what the exporter writes for each JavaScript type, and nothing for the others. */
function writeAnyValue(w: ProtoWriter, value: AttributeValue | unknown): void {
  if (typeof value === 'string') {
    w.tag(1, 2);
    w.string(value);
  } else if (typeof value === 'boolean') {
    w.tag(2, 0);
    w.varint(value ? 1 : 0);
  } else if (typeof value === 'number') {
    if (Number.isInteger(value) && value >= MIN_INT64 && value < MAX_INT64) {
      w.tag(3, 0);
      w.varint(value);
    } else {
      w.tag(4, 1);
      w.double(value);
    }
  } else if (value instanceof Uint8Array) {
    w.tag(7, 2);
    w.bytes(value);
  } else if (Array.isArray(value)) {
    w.tag(5, 2);
    const at = w.beginMessage();
    for (const item of value as unknown[]) {
      w.tag(1, 2);
      const itemAt = w.beginMessage();
      writeAnyValue(w, item);
      w.endMessage(itemAt);
    }
    w.endMessage(at);
  } else if (typeof value === 'object' && value !== null) {
    w.tag(6, 2);
    const at = w.beginMessage();
    const entries = value as Record<string, unknown>;
    for (const key in entries) {
      if (!Object.prototype.hasOwnProperty.call(entries, key)) continue;
      w.tag(1, 2);
      writeKeyValue(w, key, entries[key]);
    }
    w.endMessage(at);
  }
}
