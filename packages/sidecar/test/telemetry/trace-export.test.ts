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

  export(spans: tracing.ReadableSpan[], done: (result: ExportResult) => void): void {
    this.pending.push({ spans: spans.length, done });
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
    // Ten went out in one export that is still unanswered; the other fifteen had no room.
    await new Promise((r) => setTimeout(r, 50));
    expect(exporter.pending.map((p) => p.spans)).to.deep.equal([10]);
    expect(dropped).to.deep.equal({ queue_full: 15, export_failed: 0 });

    // The collector fails that export: ten more lost, and the queue has room again.
    exporter.answerAll(ExportResultCode.FAILED);
    expect(dropped).to.deep.equal({ queue_full: 15, export_failed: 10 });
    end(10);
    await new Promise((r) => setTimeout(r, 50));
    expect(exporter.pending.map((p) => p.spans)).to.deep.equal([10]);
    expect(dropped.queue_full).to.equal(15);
    exporter.answerAll(ExportResultCode.SUCCESS);
    expect(dropped.export_failed).to.equal(10);
    await t.shutdown();
  });
});
