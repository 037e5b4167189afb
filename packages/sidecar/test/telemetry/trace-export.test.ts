import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type * as tracing from '@opentelemetry/sdk-trace-base';
import { createLogger } from '@weft/api';
import { expect } from 'chai';
import { Tracing, type SpanAttributes, type SpanDropReason } from '../../src/telemetry/trace';

const log = createLogger('test');
const attrs = (a: SpanAttributes): SpanAttributes => a;

/** An exporter whose exports are answered only when the test says so (a stalled collector). */
class StalledExporter implements tracing.SpanExporter {
  readonly pending: { spans: number; done: (r: ExportResult) => void }[] = [];
  compression = '';
  /** Set before shutdown: the collector is back, and answers at once. */
  answering = false;

  export(spans: tracing.ReadableSpan[], done: (result: ExportResult) => void): void {
    if (this.answering) done({ code: ExportResultCode.SUCCESS });
    else this.pending.push({ spans: spans.length, done });
  }

  answerAll(code: ExportResultCode): void {
    for (const p of this.pending.splice(0)) p.done({ code });
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

describe('telemetry/trace: the bounded export queue', () => {
  it('holds at most maxQueueSize spans while the collector does not answer, and counts every span dropped', async () => {
    const exporter = new StalledExporter();
    const dropped: Record<SpanDropReason, number> = { queue_full: 0, export_failed: 0 };
    const t = new Tracing({ 'service.name': 'frontend' }, log, (_endpoint, options) => {
      exporter.compression = options.compression;
      return exporter;
    }, (n, reason) => (dropped[reason] += n));
    t.configure({ otlpEndpoint: 'collector:4317', samplingPercent: 100, maxQueueSize: 10, compression: 'gzip' });
    expect(exporter.compression).to.equal('gzip');
    const end = (n: number): void => {
      for (let i = 0; i < n; i++) t.startSpan('outbound orders', 'client', undefined, attrs, {}).end(200);
    };
    end(25);
    // Ten held (one batch in an export that is still unanswered, the rest waiting behind it); the
    // other fifteen had no room.
    await new Promise((r) => setTimeout(r, 50));
    const inFlight = exporter.pending.reduce((n, p) => n + p.spans, 0);
    expect(inFlight).to.be.within(1, 10);
    expect(dropped).to.deep.equal({ queue_full: 15, export_failed: 0 });

    // The collector fails that export: its spans are lost, and the queue has room again for as many.
    exporter.answerAll(ExportResultCode.FAILED);
    expect(dropped).to.deep.equal({ queue_full: 15, export_failed: inFlight });
    end(inFlight + 1);
    expect(dropped.queue_full).to.equal(16);
    // Once the collector answers, everything held goes out and nothing more is lost.
    for (let i = 0; i < 20 && (exporter.pending.length > 0 || i === 0); i++) {
      await new Promise((r) => setTimeout(r, 20));
      exporter.answerAll(ExportResultCode.SUCCESS);
    }
    expect(dropped).to.deep.equal({ queue_full: 16, export_failed: inFlight });
    exporter.answering = true;
    await t.shutdown();
  });

  it('a batch in flight leaves room in the queue: a span that ends while the collector has not answered yet is kept', async () => {
    const exporter = new StalledExporter();
    const dropped: Record<SpanDropReason, number> = { queue_full: 0, export_failed: 0 };
    const t = new Tracing({ 'service.name': 'frontend' }, log, () => exporter, (n, reason) => (dropped[reason] += n));
    t.configure({ otlpEndpoint: 'collector:4317', samplingPercent: 100, maxQueueSize: 8, compression: 'none' });
    // Spans end one by one until a batch goes out (the collector answers nothing yet).
    for (let i = 0; i < 8 && exporter.pending.length === 0; i++) {
      t.startSpan('outbound orders', 'client', undefined, attrs, {}).end(200);
      await new Promise((r) => setImmediate(r));
    }
    expect(exporter.pending, 'a batch went out').to.have.length(1);
    t.startSpan('outbound orders', 'client', undefined, attrs, {}).end(200);
    expect(dropped.queue_full, 'dropped with the collector up, only slower than the next span').to.equal(0);
    exporter.answering = true;
    exporter.answerAll(ExportResultCode.SUCCESS);
    await t.shutdown();
  });
});
