import type * as tracing from '@opentelemetry/sdk-trace-base';

/** Keeps what it is given, even after shutdown (the SDK's in-memory exporter forgets on shutdown). */
export class CollectingExporter implements tracing.SpanExporter {
  readonly spans: tracing.ReadableSpan[] = [];
  export(spans: tracing.ReadableSpan[], done: (r: { code: number }) => void): void {
    this.spans.push(...spans);
    done({ code: 0 });
  }
  getFinishedSpans(): tracing.ReadableSpan[] {
    return this.spans;
  }
  async shutdown(): Promise<void> {}
}
