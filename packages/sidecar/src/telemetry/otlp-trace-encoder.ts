import type { Attributes, AttributeValue, HrTime, Link, SpanContext, SpanStatus } from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan, TimedEvent } from '@opentelemetry/sdk-trace-base';
import { EncodedSpan } from './encoded-span';
import { ProtoWriter } from './otlp-proto-writer';
import { takeRequestWriter } from './request-writers';

/**
 * An OTLP `ExportTraceServiceRequest` as protobuf, byte for byte what the exporter's own
 * `ProtobufTraceSerializer` writes for the same spans (same fields, same order, same grouping by
 * resource and scope), in one pass instead of two (see ProtoWriter). At 100% sampling the
 * exporter's serializer was the largest part of a recorded span's cost: two passes over every
 * attribute string, an id buffer per id. The test `otlp-trace-encoder.test.ts` compares the two.
 */
export function encodeTraceExport(spans: readonly ReadableSpan[]): Uint8Array {
  // An export started by the sidecar's pipeline lends its own writer (see request-writers): the
  // request is a view of its buffer, not a copy.
  const lent = takeRequestWriter();
  const w = lent ?? (writer ??= new ProtoWriter());
  w.reset();
  for (const [resource, scopes] of groupByResource(spans)) {
    w.tag(1, 2); // resource_spans
    const resourceSpans = w.beginMessage();
    writeResource(w, resource);
    for (const group of scopes.values()) {
      w.tag(2, 2); // scope_spans
      const scopeSpans = w.beginMessage();
      const scope = (group[0] as ReadableSpan).instrumentationScope;
      writeScope(w, scope);
      for (const span of group) {
        // A span encoded when it ended carries its own tag and length.
        if (span instanceof EncodedSpan) span.copyInto(w);
        else writeSpan(w, span);
      }
      if (scope.schemaUrl) {
        w.tag(3, 2);
        w.string(scope.schemaUrl);
      }
      w.endMessage(scopeSpans);
    }
    if (resource.schemaUrl) {
      w.tag(3, 2);
      w.string(resource.schemaUrl);
    }
    w.endMessage(resourceSpans);
  }
  return lent ? w.view() : w.finish();
}

/**
 * For requests encoded outside the sidecar's pipeline (tests, other callers): one per process,
 * made with the first such export; encoding is synchronous, so two exports never share it at once.
 */
let writer: ProtoWriter | undefined;

/** By identity, in the order first seen: how the exporter groups them. */
function groupByResource(spans: readonly ReadableSpan[]): Map<Resource, Map<InstrumentationScope, ReadableSpan[]>> {
  const byResource = new Map<Resource, Map<InstrumentationScope, ReadableSpan[]>>();
  for (const span of spans) {
    let scopes = byResource.get(span.resource);
    if (!scopes) byResource.set(span.resource, (scopes = new Map()));
    const group = scopes.get(span.instrumentationScope);
    if (group) group.push(span);
    else scopes.set(span.instrumentationScope, [span]);
  }
  return byResource;
}

function writeResource(w: ProtoWriter, resource: Resource): void {
  w.tag(1, 2);
  const at = w.beginMessage();
  if (resource.attributes) writeAttributes(w, resource.attributes, 1);
  w.tag(2, 0); // dropped_attributes_count
  w.varint(0);
  w.endMessage(at);
}

function writeScope(w: ProtoWriter, scope: InstrumentationScope & { readonly attributes?: Attributes; readonly droppedAttributesCount?: number }): void {
  w.tag(1, 2);
  const at = w.beginMessage();
  w.tag(1, 2);
  w.string(scope.name);
  if (scope.version) {
    w.tag(2, 2);
    w.string(scope.version);
  }
  if (scope.attributes) writeAttributes(w, scope.attributes, 3);
  if (scope.droppedAttributesCount) {
    w.tag(4, 0);
    w.varint(scope.droppedAttributesCount);
  }
  w.endMessage(at);
}

/** One `spans` entry of a ScopeSpans (field 2): its tag, length and Span message. */
export function writeSpan(w: ProtoWriter, span: ReadableSpan): void {
  w.tag(2, 2);
  const at = w.beginMessage();
  const ctx = span.spanContext();
  writeIds(w, ctx);
  const parent = span.parentSpanContext;
  if (parent?.spanId) {
    w.tag(4, 2);
    w.hexBytes(parent.spanId);
  }
  w.tag(5, 2);
  w.string(span.name);
  // OTLP's SpanKind counts from UNSPECIFIED = 0; the API's from INTERNAL = 0.
  const kind = span.kind == null ? 0 : span.kind + 1;
  if (kind !== 0) {
    w.tag(6, 0);
    w.varint(kind);
  }
  w.tag(7, 1);
  writeTime(w, span.startTime);
  w.tag(8, 1);
  writeTime(w, span.endTime);
  if (span.attributes) writeAttributes(w, span.attributes, 9);
  w.tag(10, 0);
  w.varint(span.droppedAttributesCount);
  for (const event of span.events) {
    w.tag(11, 2);
    writeEvent(w, event);
  }
  w.tag(12, 0);
  w.varint(span.droppedEventsCount);
  for (const link of span.links) {
    w.tag(13, 2);
    writeLink(w, link);
  }
  w.tag(14, 0);
  w.varint(span.droppedLinksCount);
  w.tag(15, 2);
  writeStatus(w, span.status);
  w.tag(16, 5);
  w.fixed32(flagsOf(ctx, parent?.isRemote));
  w.endMessage(at);
}

/** Fields 1-3 of a Span and of a Link alike: trace id, span id, trace state. */
function writeIds(w: ProtoWriter, ctx: SpanContext): void {
  w.tag(1, 2);
  w.hexBytes(ctx.traceId);
  w.tag(2, 2);
  w.hexBytes(ctx.spanId);
  const traceState = ctx.traceState?.serialize();
  if (traceState) {
    w.tag(3, 2);
    w.string(traceState);
  }
}

function writeEvent(w: ProtoWriter, event: TimedEvent): void {
  const at = w.beginMessage();
  w.tag(1, 1);
  writeTime(w, event.time);
  w.tag(2, 2);
  w.string(event.name);
  if (event.attributes) writeAttributes(w, event.attributes, 3);
  w.tag(4, 0);
  w.varint(event.droppedAttributesCount || 0);
  w.endMessage(at);
}

function writeLink(w: ProtoWriter, link: Link): void {
  const at = w.beginMessage();
  const ctx = link.context;
  writeIds(w, ctx);
  if (link.attributes) writeAttributes(w, link.attributes, 4);
  w.tag(5, 0);
  w.varint(link.droppedAttributesCount || 0);
  w.tag(6, 5);
  w.fixed32(flagsOf(ctx, ctx.isRemote));
  w.endMessage(at);
}

function writeStatus(w: ProtoWriter, status: SpanStatus): void {
  const at = w.beginMessage();
  if (status.message) {
    w.tag(2, 2);
    w.string(status.message);
  }
  w.tag(3, 0);
  w.varint(status.code);
  w.endMessage(at);
}

/** The span's trace flags, and whether its parent (or a link) is remote, as OTLP's `flags`. */
function flagsOf(ctx: SpanContext, isRemote: boolean | undefined): number {
  return (ctx.traceFlags & 0xff) | 0x100 | (isRemote ? 0x200 : 0);
}

/** Nanoseconds since the epoch as fixed64, split so that no product leaves the safe integers. */
function writeTime(w: ProtoWriter, time: HrTime): void {
  const [seconds, nanos] = time;
  const lowNanos = (seconds & 0xffff) * 1e9;
  const highNanos = ((seconds / 0x10000) >>> 0) * 1e9;
  const low = (lowNanos >>> 0) + (((highNanos & 0xffff) * 0x10000) >>> 0) + nanos;
  const high = Math.floor(lowNanos / 0x100000000) + ((highNanos / 0x10000) >>> 0) + Math.floor(low / 0x100000000);
  w.fixed64(low >>> 0, high >>> 0);
}

function writeAttributes(w: ProtoWriter, attributes: Attributes, field: number): void {
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
