import { SpanKind, SpanStatusCode, TraceFlags, createTraceState, type Link } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { startOtlpReceiver, type OtlpReceiver } from '@weft/harness';
import { createLogger } from '@weft/api';
import { expect } from 'chai';
import { otlpExporterFor, useWeftEncoder } from '../../src/telemetry/otlp-exporter';
import { EncodedSpan } from '../../src/telemetry/encoded-span';
import { encodeTraceExport } from '../../src/telemetry/otlp-trace-encoder';
import { SpanEncoder } from '../../src/telemetry/span-encoder';
import { withRequestWriter } from '../../src/telemetry/request-writers';
import { Tracing, type SpanAttributes } from '../../src/telemetry/trace';

type Serialize = (spans: ReadableSpan[]) => Uint8Array | undefined;

/** The exporter's own serializer, reached the way `useWeftEncoder` reaches it. */
function sdkSerializerOf(exporter: SpanExporter): Serialize {
  const serializer = (exporter as unknown as { _delegate: { _serializer: { serializeRequest: Serialize } } })._delegate._serializer;
  return serializer.serializeRequest;
}

/** Recorded spans as the sidecar makes them: Tracing with a collecting exporter. */
function recordSpans(make: (t: Tracing) => void, resource: SpanAttributes = { 'service.name': 'frontend', 'service.instance.id': 'frontend-7d4' }): Promise<ReadableSpan[]> {
  const spans: ReadableSpan[] = [];
  const t = new Tracing(resource, createLogger('test'), () => ({
    export: (batch, done): void => {
      spans.push(...batch);
      done({ code: 0 });
    },
    shutdown: () => Promise.resolve(),
  }));
  t.configure({ otlpEndpoint: 'collector:4317', samplingPercent: 100 });
  make(t);
  return t.shutdown().then(() => spans);
}

const REQUEST: SpanAttributes = {
  'http.request.method': 'GET',
  'http.route': '/orders/*',
  'url.path': '/orders/42',
  'server.address': 'orders.default:8080',
  'weft.source': 'frontend.default',
  'weft.destination': 'orders.default',
  'weft.peer.identity': 'spiffe://weft.local/ns/default/sa/orders',
};

const CALLER = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', flags: 1 };

describe('telemetry/otlp-trace-encoder: OTLP export requests in one pass', () => {
  it("replaces the pinned exporter's serializer (fails when the exporter's internals change shape)", async () => {
    const fresh = otlpExporterFor(undefined)('127.0.0.1:4317', { compression: 'none' });
    const internals = (fresh as unknown as { _delegate: { _serializer: { serializeRequest: unknown } } })._delegate._serializer;
    expect(internals.serializeRequest).to.equal(encodeTraceExport);
    // An exporter without those internals keeps what it has.
    expect(useWeftEncoder({ export: () => undefined, shutdown: () => Promise.resolve() })).to.equal(false);
    await fresh.shutdown();
  });

  it("writes the same bytes as the exporter's own serializer for the spans a sidecar records", async () => {
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-grpc');
    const sdk = sdkSerializerOf(new OTLPTraceExporter({ url: 'http://127.0.0.1:4317' }));
    const spans = await recordSpans((t) => {
      const client = t.startSpan('outbound orders', 'client', undefined, (a: SpanAttributes) => ({ ...a }), REQUEST);
      const attempt = client.child('outbound orders attempt', () => ({ 'weft.attempt': 2 }), undefined);
      attempt.addEvent('endpoint skipped', { 'weft.endpoint': '10.0.0.7:8080', 'weft.reason': 'ejected' });
      attempt.end(503);
      client.setAttributes({ 'weft.attempts': 2, 'weft.retried': true, 'rpc.grpc.status_code': 14 });
      client.end(undefined, 'WEFT_ERR_UPSTREAM_RESET');
      const server = t.startSpan('inbound orders', 'server', CALLER, (a: SpanAttributes) => ({ ...a, 'server.port': 15006, 'network.peer.port': 40123 }), REQUEST);
      server.end(200);
    });
    expect(spans).to.have.length(3);
    expect(Buffer.from(encodeTraceExport(spans)).equals(Buffer.from(sdk(spans) ?? []))).to.equal(true);
    const encoder = new SpanEncoder();
    const encoded = spans.map((sp) => encoder.encode(sp)) as unknown as ReadableSpan[];
    expect(Buffer.from(encodeTraceExport(encoded)).equals(Buffer.from(sdk(spans) ?? []))).to.equal(true);
  });

  it('writes the same bytes for every attribute type, non-ASCII and long strings, links, trace state, several resources and scopes, and batches beyond its buffer', async () => {
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-grpc');
    const sdk = sdkSerializerOf(new OTLPTraceExporter({ url: 'http://127.0.0.1:4317' }));
    const resourceA = resourceFromAttributes({ 'service.name': 'frontend' });
    const resourceB = resourceFromAttributes({ 'service.name': 'bäckend', 'host.cores': 2 });
    const scopeA = { name: 'weft-sidecar' };
    const scopeB = { name: 'other', version: '1.2.3', schemaUrl: 'https://opentelemetry.io/schemas/1.26.0' };
    const link: Link = { context: { traceId: CALLER.traceId, spanId: CALLER.spanId, traceFlags: TraceFlags.SAMPLED, isRemote: true }, attributes: { why: 'batch' }, droppedAttributesCount: 1 };
    const span = (i: number, resource: typeof resourceA, scope: typeof scopeA | typeof scopeB): ReadableSpan => ({
      name: i % 2 ? 'ünïcode span' : `span ${i}`,
      kind: i % 5 === 0 ? SpanKind.INTERNAL : SpanKind.PRODUCER,
      spanContext: () => ({ traceId: CALLER.traceId, spanId: `00000000000000${(i % 256).toString(16).padStart(2, '0')}`, traceFlags: TraceFlags.SAMPLED, traceState: createTraceState('vendor=a,other=b') }),
      parentSpanContext: i % 3 ? { traceId: CALLER.traceId, spanId: 'B7AD6B7169203331', traceFlags: 0, isRemote: i % 2 === 0 } : undefined,
      startTime: [1_767_000_000 + i, 999_999_999],
      endTime: [1_767_000_001 + i, 12],
      duration: [1, 12],
      status: i % 4 ? { code: SpanStatusCode.ERROR, message: 'broke: ✗' } : { code: SpanStatusCode.OK },
      attributes: {
        s: 'x'.repeat(i % 300),
        emoji: '🙂 and a lone \ud800',
        int: -i,
        big: 2 ** 60,
        double: i + 0.25,
        nan: Number.NaN,
        bool: i % 2 === 0,
        list: ['a', 'b', String(i)],
        nums: [1, 2.5, -3],
        empty: '',
      },
      links: i % 7 === 0 ? [link] : [],
      events: [{ name: 'e', time: [1_767_000_000, i], attributes: { n: i }, droppedAttributesCount: 0 }],
      resource,
      instrumentationScope: scope,
      ended: true,
      droppedAttributesCount: i % 3,
      droppedEventsCount: 0,
      droppedLinksCount: i % 2,
    });
    const spans: ReadableSpan[] = [];
    for (let i = 0; i < 600; i++) spans.push(span(i, i % 3 ? resourceA : resourceB, i % 4 ? scopeA : scopeB));
    const ours = Buffer.from(encodeTraceExport(spans));
    expect(ours.length).to.be.greaterThan(128 * 1024);
    expect(ours.equals(Buffer.from(sdk(spans) ?? []))).to.equal(true);
    // Spans encoded one by one as they end (across several slabs, the long ones growing theirs),
    // then exported together: the same request again.
    const encoder = new SpanEncoder();
    const encoded = spans.map((sp) => encoder.encode(sp));
    expect(new Set(encoded.map((e) => e.slab)).size).to.be.greaterThan(2);
    expect(Buffer.from(encodeTraceExport(encoded as unknown as ReadableSpan[])).equals(ours)).to.equal(true);
    // The scratch buffer is reused: an earlier result is a copy, untouched by the next request.
    const small = Buffer.from(encodeTraceExport(spans.slice(0, 2)));
    expect(ours.equals(Buffer.from(sdk(spans) ?? []))).to.equal(true);
    expect(small.equals(Buffer.from(sdk(spans.slice(0, 2)) ?? []))).to.equal(true);
  });

  it('reuses a slab once every span in it was copied into an export request, and refuses a span whose slab was reused', async () => {
    const spans = await recordSpans((t) => {
      for (let i = 0; i < 400; i++) t.startSpan('outbound orders', 'client', CALLER, (a: SpanAttributes) => ({ ...a, 'url.path': `/orders/${i}` }), REQUEST).end(200);
    });
    const encoder = new SpanEncoder();
    const first = spans.map((sp) => encoder.encode(sp));
    const slabs = [...new Set(first.map((e) => e.slab))];
    expect(slabs.length).to.be.greaterThan(2);
    const want = Buffer.from(encodeTraceExport(spans));
    // Exported twice before any reuse: the same bytes (a span is released once).
    const twice = first.slice(0, 2) as unknown as ReadableSpan[];
    expect(Buffer.from(encodeTraceExport(twice)).equals(Buffer.from(encodeTraceExport(twice)))).to.equal(true);
    expect(Buffer.from(encodeTraceExport(first as unknown as ReadableSpan[])).equals(want)).to.equal(true);
    // Every finished slab went back; the next spans are written into them, and the
    // export of those is still the exporter's own bytes.
    const second = spans.map((sp) => encoder.encode(sp));
    expect(second.filter((e) => e.slab === slabs[0])).to.not.have.length(0); // the first, sealed and exported, is written again
    expect(Buffer.from(encodeTraceExport(second as unknown as ReadableSpan[])).equals(want)).to.equal(true);
    expect(() => encodeTraceExport(first as unknown as ReadableSpan[])).to.throw(/exported twice/);
  });

  it("writes a pipeline's export request into a buffer of its own, untouched by later exports until it is answered, then reused", async () => {
    const spans = await recordSpans((t) => {
      for (let i = 0; i < 3; i++) t.startSpan('outbound orders', 'client', CALLER, (a: SpanAttributes) => ({ ...a, 'url.path': `/orders/${i}` }), REQUEST).end(200);
    });
    const [a, b, c] = spans.map((sp) => [sp]) as [ReadableSpan[], ReadableSpan[], ReadableSpan[]];
    let first: Uint8Array | undefined;
    let answerFirst = (): void => undefined;
    withRequestWriter((answered) => {
      first = encodeTraceExport(a);
      answerFirst = answered;
    });
    const firstBytes = Buffer.from(first ?? []);
    expect(firstBytes.equals(Buffer.from(encodeTraceExport(a)))).to.equal(true); // outside a pipeline: a copy
    let second: Uint8Array | undefined;
    withRequestWriter((answered) => {
      second = encodeTraceExport(b);
      answered();
    });
    expect(second?.buffer).to.not.equal(first?.buffer); // the first is not answered yet: another buffer
    expect(Buffer.from(first ?? []).equals(firstBytes)).to.equal(true);
    answerFirst();
    answerFirst(); // given back once
    const buffers = new Set<ArrayBufferLike>();
    for (const batch of [c, a]) {
      withRequestWriter((answered) => {
        const request = encodeTraceExport(batch);
        buffers.add(request.buffer);
        expect(Buffer.from(request).equals(Buffer.from(encodeTraceExport(batch)))).to.equal(true);
        answered();
      });
    }
    expect(buffers.has(first?.buffer as ArrayBufferLike) || buffers.has(second?.buffer as ArrayBufferLike)).to.equal(true);
  });

  describe('through a real OTLP/gRPC receiver', () => {
    let receiver: OtlpReceiver;
    before(async () => {
      receiver = await startOtlpReceiver();
    });
    after(() => receiver.close());

    it('delivers every span and every attribute', async () => {
      const live = otlpExporterFor(undefined)(receiver.endpoint, { compression: 'none' });
      const spans = await recordSpans((t) => {
        const client = t.startSpan('outbound orders', 'client', CALLER, (a: SpanAttributes) => ({ ...a }), REQUEST);
        client.setAttributes({ 'weft.attempts': 1, 'weft.retried': false });
        client.end(200);
      });
      await new Promise<void>((resolve, reject) => live.export(spans, (r) => (r.code === 0 ? resolve() : reject(r.error))));
      const [got] = await receiver.waitForSpans((s) => s.length === 1);
      expect(got?.name).to.equal('outbound orders');
      expect(got?.traceId).to.equal(CALLER.traceId);
      expect(got?.parentSpanId).to.equal(CALLER.spanId);
      expect(got?.serviceName).to.equal('frontend');
      expect(got?.scopeName).to.equal('weft-sidecar');
      expect(got?.attributes).to.deep.equal({ ...REQUEST, 'weft.attempts': 1, 'weft.retried': false, 'http.response.status_code': 200 });
      await live.shutdown();
    });

    it("queues spans already encoded when the exporter uses Weft's encoder, and they arrive whole, in batches, and on shutdown", async () => {
      receiver.clear();
      let queued: unknown[] = [];
      const real = otlpExporterFor(undefined);
      const t = new Tracing({ 'service.name': 'frontend' }, createLogger('test'), (endpoint, options) => {
        const exporter = real(endpoint, options);
        // What the batch processor hands the exporter: EncodedSpan, not the spans themselves.
        const exportBatch = exporter.export.bind(exporter);
        exporter.export = (batch, done): void => {
          queued = queued.concat(batch);
          exportBatch(batch, done);
        };
        return exporter;
      });
      t.configure({ otlpEndpoint: receiver.endpoint, samplingPercent: 100 });
      for (let i = 0; i < 600; i++) {
        const client = t.startSpan('outbound orders', 'client', CALLER, (a: SpanAttributes) => ({ ...a, 'url.path': `/orders/${i}` }), REQUEST);
        if (i === 7) client.addEvent('retry', { 'weft.attempt': 2 });
        client.setAttributes({ 'weft.attempts': 1 });
        client.end(i === 9 ? 503 : 200);
        client.setAttributes({ 'after.end': true }); // ignored: the span was encoded when it ended
      }
      // 512 go at once (a full batch), the rest on shutdown.
      const first = await receiver.waitForSpans((s) => s.length >= 512);
      expect(first).to.have.length(512);
      await t.shutdown();
      const got = await receiver.waitForSpans((s) => s.length === 600);
      expect(queued).to.have.length(600);
      expect(queued.every((q) => q instanceof EncodedSpan)).to.equal(true);
      expect(got.map((s) => s.attributes['url.path'])).to.deep.equal(Array.from({ length: 600 }, (_, i) => `/orders/${i}`));
      expect(got[9]?.attributes).to.deep.equal({ ...REQUEST, 'url.path': '/orders/9', 'weft.attempts': 1, 'http.response.status_code': 503 });
      expect(got[9]?.status).to.deep.equal({ code: 2, message: 'HTTP 503' });
      expect(got[7]?.events).to.deep.equal([{ name: 'retry', attributes: { 'weft.attempt': 2 } }]);
      expect(new Set(got.map((s) => s.spanId)).size).to.equal(600);
    });
  });
});
