import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoRoot } from '@weft/api';
import { closeGrpcServer } from './grpc-server-close';
import { collectSpans, type CollectedSpan, type WireResourceSpans } from './otlp-spans';

const TRACE_SERVICE_PROTO = path.join('opentelemetry', 'proto', 'collector', 'trace', 'v1', 'trace_service.proto');

export interface OtlpReceiver {
  readonly port: number;
  /** `127.0.0.1:<port>`: what MeshConfig `spec.tracing.otlpEndpoint` takes. */
  readonly endpoint: string;
  /** Every span received so far, in arrival order. */
  spans(): readonly CollectedSpan[];
  /** How many Export calls arrived (batches). */
  exports(): number;
  /** The request metadata (headers) of every Export call, in arrival order; names lower-case. */
  metadata(): readonly Readonly<Record<string, string>>[];
  /** Resolves with all spans once `predicate(all spans)` holds; rejects after `timeoutMs`. */
  waitForSpans(predicate: (spans: readonly CollectedSpan[]) => boolean, timeoutMs?: number): Promise<readonly CollectedSpan[]>;
  clear(): void;
  close(): Promise<void>;
}

type TraceServiceCtor = grpc.ServiceClientConstructor;

function serverCredentials(tls: OtlpReceiverTls | undefined): grpc.ServerCredentials {
  if (!tls) return grpc.ServerCredentials.createInsecure();
  const ca = tls.clientCaPem === undefined ? null : Buffer.from(tls.clientCaPem);
  return grpc.ServerCredentials.createSsl(ca, [{ private_key: Buffer.from(tls.keyPem), cert_chain: Buffer.from(tls.certPem) }], tls.clientCaPem !== undefined);
}

function loadTraceService(): TraceServiceCtor {
  const definition = protoLoader.loadSync(TRACE_SERVICE_PROTO, {
    includeDirs: [protoRoot()],
    keepCase: false,
    longs: String, // fixed64 nanoseconds exceed 2^53
    bytes: Buffer,
    defaults: true,
    arrays: true,
    oneofs: true, // AnyValue.value names the member that is set
  });
  const loaded = grpc.loadPackageDefinition(definition) as unknown as {
    opentelemetry: { proto: { collector: { trace: { v1: { TraceService: TraceServiceCtor } } } } };
  };
  return loaded.opentelemetry.proto.collector.trace.v1.TraceService;
}

/**
 * A real OTLP/gRPC trace receiver (plaintext, loopback) that keeps every span in memory, so tests
 * and the demo can check what sidecars actually exported.
 */
/** TLS for the receiver: its certificate, and with `clientCaPem` a client certificate it requires. */
export interface OtlpReceiverTls {
  readonly certPem: string;
  readonly keyPem: string;
  /** Roots a client certificate must chain to; set: clients without one are refused. */
  readonly clientCaPem?: string;
}

export async function startOtlpReceiver(options: { host?: string; port?: number; tls?: OtlpReceiverTls } = {}): Promise<OtlpReceiver> {
  const received: CollectedSpan[] = [];
  const metadata: Record<string, string>[] = [];
  const waiters = new Set<() => void>();
  let exportCount = 0;

  const server = new grpc.Server();
  server.addService(loadTraceService().service, {
    Export(call: grpc.ServerUnaryCall<{ resourceSpans?: WireResourceSpans[] }, unknown>, callback: grpc.sendUnaryData<unknown>) {
      exportCount += 1;
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(call.metadata.getMap())) headers[name] = Buffer.isBuffer(value) ? value.toString('base64') : value;
      metadata.push(headers);
      received.push(...collectSpans(call.request.resourceSpans ?? []));
      for (const wake of [...waiters]) wake();
      callback(null, {});
    },
  });
  const host = options.host ?? '127.0.0.1';
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${host}:${options.port ?? 0}`, serverCredentials(options.tls), (err, p) => (err ? reject(err) : resolve(p))),
  );

  return {
    port,
    endpoint: `${host}:${port}`,
    spans: () => [...received],
    exports: () => exportCount,
    metadata: () => [...metadata],
    clear: () => void received.splice(0),
    waitForSpans(predicate, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = (): boolean => {
          if (!predicate(received)) return false;
          clearTimeout(timer);
          waiters.delete(wake);
          resolve([...received]);
          return true;
        };
        const wake = (): void => void check();
        const timer = setTimeout(() => {
          waiters.delete(wake);
          reject(new Error(`timed out after ${timeoutMs}ms waiting for spans (received ${received.length} in ${exportCount} exports)`));
        }, timeoutMs);
        if (!check()) waiters.add(wake);
      });
    },
    close: () => closeGrpcServer(server),
  };
}
