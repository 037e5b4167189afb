/**
 * Spans as the OTLP receiver collects them, and the conversion from the decoded protobuf
 * (@grpc/proto-loader with `longs: String`, `bytes: Buffer`, `oneofs: true`).
 */

/** OTLP v1 Span.SpanKind values. */
export const SPAN_KIND = Object.freeze({ UNSPECIFIED: 0, INTERNAL: 1, SERVER: 2, CLIENT: 3, PRODUCER: 4, CONSUMER: 5 });
export type SpanKind = (typeof SPAN_KIND)[keyof typeof SPAN_KIND];

/** OTLP v1 Status.StatusCode values. */
export const STATUS_CODE = Object.freeze({ UNSET: 0, OK: 1, ERROR: 2 });

export type AttributeValue = string | number | boolean | null | readonly AttributeValue[] | { readonly [key: string]: AttributeValue };

export interface CollectedSpan {
  /** Lower-case hex: 32 characters. */
  readonly traceId: string;
  /** Lower-case hex: 16 characters. */
  readonly spanId: string;
  /** Lower-case hex, or '' for a root span. */
  readonly parentSpanId: string;
  readonly name: string;
  readonly kind: SpanKind;
  readonly startTimeUnixNano: bigint;
  readonly endTimeUnixNano: bigint;
  readonly attributes: Readonly<Record<string, AttributeValue>>;
  readonly status: { readonly code: number; readonly message: string };
  /** Span events in the order recorded (a skipped endpoint, a retry). */
  readonly events: readonly { readonly name: string; readonly attributes: Readonly<Record<string, AttributeValue>> }[];
  /** The resource's `service.name` attribute ('' if absent). */
  readonly serviceName: string;
  readonly resourceAttributes: Readonly<Record<string, AttributeValue>>;
  readonly scopeName: string;
}

// The decoded protobuf, as far as we read it. Everything is optional: a sender may omit any field.
export interface WireAnyValue {
  readonly value?: string;
  readonly stringValue?: string;
  readonly boolValue?: boolean;
  readonly intValue?: string;
  readonly doubleValue?: number;
  readonly arrayValue?: { readonly values?: readonly WireAnyValue[] } | null;
  readonly kvlistValue?: { readonly values?: readonly WireKeyValue[] } | null;
  readonly bytesValue?: Buffer;
}
export interface WireKeyValue {
  readonly key?: string;
  readonly value?: WireAnyValue | null;
}
export interface WireSpan {
  readonly traceId?: Buffer;
  readonly spanId?: Buffer;
  readonly parentSpanId?: Buffer;
  readonly name?: string;
  readonly kind?: number;
  readonly startTimeUnixNano?: string;
  readonly endTimeUnixNano?: string;
  readonly attributes?: readonly WireKeyValue[];
  readonly status?: { readonly code?: number; readonly message?: string } | null;
  readonly events?: readonly { readonly name?: string; readonly attributes?: readonly WireKeyValue[] }[];
}
export interface WireResourceSpans {
  readonly resource?: { readonly attributes?: readonly WireKeyValue[] } | null;
  readonly scopeSpans?: readonly { readonly scope?: { readonly name?: string } | null; readonly spans?: readonly WireSpan[] }[];
}

function anyValue(v: WireAnyValue | null | undefined): AttributeValue {
  if (!v) return null;
  switch (v.value) {
    case 'stringValue':
      return v.stringValue ?? '';
    case 'boolValue':
      return v.boolValue ?? false;
    case 'intValue': {
      // int64 arrives as a decimal string; a number when it fits exactly.
      const n = Number(v.intValue ?? '0');
      return Number.isSafeInteger(n) ? n : (v.intValue ?? '0');
    }
    case 'doubleValue':
      return v.doubleValue ?? 0;
    case 'arrayValue':
      return (v.arrayValue?.values ?? []).map(anyValue);
    case 'kvlistValue':
      return attributes(v.kvlistValue?.values);
    case 'bytesValue':
      return (v.bytesValue ?? Buffer.alloc(0)).toString('hex');
    default:
      return null;
  }
}

export function attributes(list: readonly WireKeyValue[] | undefined): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const kv of list ?? []) if (kv.key) out[kv.key] = anyValue(kv.value);
  return out;
}

const hex = (b: Buffer | undefined): string => (b ? b.toString('hex') : '');

/** Flattens one Export request into spans, each carrying its resource's service name. */
export function collectSpans(resourceSpans: readonly WireResourceSpans[]): CollectedSpan[] {
  const out: CollectedSpan[] = [];
  for (const rs of resourceSpans) {
    const resourceAttributes = attributes(rs.resource?.attributes);
    const service = resourceAttributes['service.name'];
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        out.push({
          traceId: hex(s.traceId),
          spanId: hex(s.spanId),
          parentSpanId: hex(s.parentSpanId),
          name: s.name ?? '',
          kind: (s.kind ?? 0) as SpanKind,
          startTimeUnixNano: BigInt(s.startTimeUnixNano ?? '0'),
          endTimeUnixNano: BigInt(s.endTimeUnixNano ?? '0'),
          attributes: attributes(s.attributes),
          status: { code: s.status?.code ?? 0, message: s.status?.message ?? '' },
          events: (s.events ?? []).map((e) => ({ name: e.name ?? '', attributes: attributes(e.attributes) })),
          serviceName: typeof service === 'string' ? service : '',
          resourceAttributes,
          scopeName: ss.scope?.name ?? '',
        });
      }
    }
  }
  return out;
}
