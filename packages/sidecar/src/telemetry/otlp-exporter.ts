import type * as tracing from '@opentelemetry/sdk-trace-base';
import type { OtlpClientSettings } from './otlp-client';
import { encodeTraceExport } from './otlp-trace-encoder';

/** Builds the exporter for an endpoint; tests may hand in an in-memory one. */
export type ExporterFactory = (otlpEndpoint: string, options: { readonly compression: 'gzip' | 'none' }) => tracing.SpanExporter;

/** Whatever the exporter waits for one export at most. */
export const EXPORT_TIMEOUT_MS = 10_000;

/**
 * The OTLP/gRPC exporter, with this host's TLS and headers when the sidecar was given them. Its
 * module is loaded on first use: it brings in the OTLP transformer and, through it, the metrics
 * and logs SDKs (about 200 files, 3 MB of heap), which a sidecar without a collector never needs.
 */
export function otlpExporterFor(client: OtlpClientSettings | undefined): ExporterFactory {
  return (otlpEndpoint, options) => {
    const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-grpc') as typeof import('@opentelemetry/exporter-trace-otlp-grpc');
    const grpc = require('@grpc/grpc-js') as typeof import('@grpc/grpc-js');
    type Config = NonNullable<ConstructorParameters<typeof OTLPTraceExporter>[0]>;
    const tls = client?.caPem !== undefined || client?.certPem !== undefined;
    const metadata = new grpc.Metadata();
    for (const [name, value] of client?.headers ?? []) metadata.add(name, value);
    const exporter = new OTLPTraceExporter({
      url: `${tls ? 'https' : 'http'}://${otlpEndpoint}`,
      timeoutMillis: EXPORT_TIMEOUT_MS,
      // The exporter's CompressionAlgorithm enum has exactly these two string values.
      compression: options.compression as Config['compression'],
      ...(tls ? { credentials: grpc.credentials.createSsl(client?.caPem ?? null, client?.keyPem ?? null, client?.certPem ?? null) } : {}),
      ...(client && client.headers.length > 0 ? { metadata } : {}),
    });
    useWeftEncoder(exporter);
    return exporter;
  };
}

/** What `useWeftEncoder` reaches inside the exporter: its delegate's serializer (exporter 0.223). */
interface ExporterInternals {
  readonly _delegate?: { _serializer?: { serializeRequest?: unknown; deserializeResponse?: unknown } };
}

/**
 * Has the exporter encode its requests with `encodeTraceExport` (the same bytes, in about a third
 * of the CPU) instead of its own serializer. This reaches into the pinned exporter's internals,
 * which it exposes no option for; when they are not the shape it knows, the exporter keeps its own
 * serializer and the answer is false. `otlp-trace-encoder.test.ts` fails if that happens.
 */
export function useWeftEncoder(exporter: tracing.SpanExporter): boolean {
  const delegate = (exporter as ExporterInternals)._delegate;
  const serializer = delegate?._serializer;
  if (!delegate || typeof serializer?.serializeRequest !== 'function' || typeof serializer.deserializeResponse !== 'function') return false;
  const deserializeResponse = serializer.deserializeResponse;
  delegate._serializer = { serializeRequest: encodeTraceExport, deserializeResponse };
  WEFT_ENCODED.add(exporter);
  return true;
}

const WEFT_ENCODED = new WeakSet<tracing.SpanExporter>();

/**
 * Whether `exporter` serializes with `encodeTraceExport`, so that spans may be queued already
 * encoded (`EncodedSpan`) instead of as span objects. Any other exporter (a test's in-memory one)
 * is handed the spans themselves.
 */
export function takesEncodedSpans(exporter: tracing.SpanExporter): boolean {
  return WEFT_ENCODED.has(exporter);
}
