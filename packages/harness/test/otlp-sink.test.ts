import { SpanKind } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { resourceFromAttributes } from '@opentelemetry/resources';
import * as tracing from '@opentelemetry/sdk-trace-base';
import { expect } from 'chai';
import { startOtlpSink } from '../src/otlp-sink';

/** The counting collector, against the real OpenTelemetry exporter the sidecar uses. */
describe('OTLP sink (counting collector)', () => {
  it('answers every export and counts its spans across resources and scopes, keeping none', async () => {
    const sink = await startOtlpSink();
    const providers = ['orders', 'payments'].map(
      (service) =>
        new tracing.BasicTracerProvider({
          resource: resourceFromAttributes({ 'service.name': service }),
          spanProcessors: [new tracing.BatchSpanProcessor(new OTLPTraceExporter({ url: `http://${sink.endpoint}` }), { maxExportBatchSize: 7 })],
        }),
    );
    try {
      for (const [i, provider] of providers.entries()) {
        for (const scope of ['a', 'b']) {
          const tracer = provider.getTracer(scope);
          for (let n = 0; n < 10 + i; n++) tracer.startSpan(`span ${n}`, { kind: SpanKind.CLIENT, attributes: { 'weft.n': n, 'weft.s': 'x'.repeat(200) } }).end();
        }
      }
      await Promise.all(providers.map((p) => p.forceFlush()));
      expect(sink.spans()).to.equal(2 * 10 + 2 * 11);
      expect(sink.exports()).to.be.greaterThan(2);
    } finally {
      await Promise.all(providers.map((p) => p.shutdown()));
      await sink.close();
    }
  });
});
