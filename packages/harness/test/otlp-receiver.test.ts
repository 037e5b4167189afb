import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { resourceFromAttributes } from '@opentelemetry/resources';
import * as tracing from '@opentelemetry/sdk-trace-base';
import { expect } from 'chai';
import { startOtlpReceiver, type OtlpReceiver } from '../src/otlp-receiver';
import { SPAN_KIND, STATUS_CODE } from '../src/otlp-spans';
import { renderTraceTree } from '../src/trace-tree';

/**
 * The receiver is checked against the real OpenTelemetry exporter the sidecar uses, so the
 * restated OTLP proto is proven wire-compatible, not just self-consistent.
 */
describe('OTLP receiver', () => {
  let receiver: OtlpReceiver;
  let provider: tracing.BasicTracerProvider;

  before(async () => {
    receiver = await startOtlpReceiver();
    provider = new tracing.BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'orders' }),
      spanProcessors: [new tracing.SimpleSpanProcessor(new OTLPTraceExporter({ url: `http://${receiver.endpoint}` }))],
    });
  });

  after(async () => {
    await provider.shutdown();
    await receiver.close();
  });

  it('collects spans exported over OTLP/gRPC with ids, kind, times, attributes, status and service name', async () => {
    const tracer = provider.getTracer('weft-test');
    const parent = tracer.startSpan('inbound orders', { kind: SpanKind.SERVER, attributes: { 'http.request.method': 'GET' } });
    const child = tracer.startSpan(
      'outbound inventory',
      {
        kind: SpanKind.CLIENT,
        attributes: { 'http.response.status_code': 503, 'weft.retry': true, 'weft.ratio': 0.5, 'weft.tags': ['a', 'b'] },
      },
      trace.setSpan(context.active(), parent),
    );
    child.setStatus({ code: SpanStatusCode.ERROR, message: 'upstream 503' });
    child.end();
    parent.end();
    await provider.forceFlush();

    const spans = await receiver.waitForSpans((all) => all.length >= 2, 10_000);
    const server = spans.find((s) => s.name === 'inbound orders');
    const client = spans.find((s) => s.name === 'outbound inventory');
    expect(server, 'server span').to.not.equal(undefined);
    expect(client, 'client span').to.not.equal(undefined);
    if (!server || !client) return;

    expect(server.traceId).to.equal(parent.spanContext().traceId).and.match(/^[0-9a-f]{32}$/);
    expect(server.spanId).to.equal(parent.spanContext().spanId).and.match(/^[0-9a-f]{16}$/);
    expect(server.parentSpanId).to.equal('');
    expect(client.traceId).to.equal(server.traceId);
    expect(client.parentSpanId).to.equal(server.spanId);
    expect(server.kind).to.equal(SPAN_KIND.SERVER);
    expect(client.kind).to.equal(SPAN_KIND.CLIENT);
    expect(server.serviceName).to.equal('orders');
    expect(server.scopeName).to.equal('weft-test');
    expect(server.attributes).to.deep.equal({ 'http.request.method': 'GET' });
    expect(client.attributes).to.deep.equal({ 'http.response.status_code': 503, 'weft.retry': true, 'weft.ratio': 0.5, 'weft.tags': ['a', 'b'] });
    expect(client.status).to.deep.equal({ code: STATUS_CODE.ERROR, message: 'upstream 503' });
    expect(typeof server.startTimeUnixNano).to.equal('bigint');
    expect(server.endTimeUnixNano >= server.startTimeUnixNano).to.equal(true);
    // Nanosecond times near now: proves fixed64 decoded without precision loss of the high bits.
    expect(Number(server.startTimeUnixNano / 1_000_000n)).to.be.closeTo(Date.now(), 60_000);
    expect(receiver.exports()).to.be.greaterThan(0);

    expect(renderTraceTree(spans)).to.match(/^inbound orders \[orders\]  \d+\.\dms\n  outbound inventory \[orders\]  \d+\.\dms \(\+\d+\.\dms\)  ERROR: upstream 503$/m);
  });

  it('times out waiting for spans that never come, saying how many arrived', async () => {
    receiver.clear();
    const err = await receiver.waitForSpans((all) => all.length > 100, 200).then(() => undefined, (e: Error) => e);
    expect(err?.message).to.match(/timed out after 200ms waiting for spans \(received 0/);
  });
});
