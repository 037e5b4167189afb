import * as grpc from '@grpc/grpc-js';
import { closeGrpcServer } from './grpc-server-close';

/**
 * A real OTLP/gRPC trace receiver that keeps nothing: it reads each Export request as bytes,
 * counts its spans by walking the outer messages (resource -> scope -> span, skipping each span's
 * body), and answers with an empty ExportTraceServiceResponse. For benchmarks: the collecting
 * receiver (`startOtlpReceiver`) decodes every span into objects and keeps them all, which at
 * 100% sampling costs its process a fifth of a core and grows its heap without bound, on the
 * same cores as the sidecars it measures; a collector does not run that way.
 */
export interface OtlpSink {
  readonly port: number;
  /** `127.0.0.1:<port>`: what MeshConfig `spec.tracing.otlpEndpoint` takes. */
  readonly endpoint: string;
  /** Spans received so far. */
  spans(): number;
  /** Export calls received so far. */
  exports(): number;
  close(): Promise<void>;
}

const EXPORT_PATH = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';

const SERVICE: grpc.ServiceDefinition = {
  Export: {
    path: EXPORT_PATH,
    requestStream: false,
    responseStream: false,
    requestSerialize: (b: Buffer) => b,
    requestDeserialize: (b: Buffer) => b,
    responseSerialize: () => Buffer.alloc(0),
    responseDeserialize: (b: Buffer) => b,
  },
};

export async function startOtlpSink(host = '127.0.0.1'): Promise<OtlpSink> {
  let spans = 0;
  let exportCount = 0;
  const server = new grpc.Server();
  server.addService(SERVICE, {
    Export(call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) {
      exportCount += 1;
      spans += countSpans(call.request);
      callback(null, Buffer.alloc(0));
    },
  });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync(`${host}:0`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  return {
    port,
    endpoint: `${host}:${port}`,
    spans: () => spans,
    exports: () => exportCount,
    close: () => closeGrpcServer(server),
  };
}

/** Spans in an ExportTraceServiceRequest: field 1 (ResourceSpans) -> field 2 (ScopeSpans) -> field 2 (Span). */
export function countSpans(request: Uint8Array): number {
  let n = 0;
  forEachField(request, 0, request.length, (field, start, end) => {
    if (field !== 1) return;
    forEachField(request, start, end, (f2, s2, e2) => {
      if (f2 !== 2) return;
      forEachField(request, s2, e2, (f3) => {
        if (f3 === 2) n += 1;
      });
    });
  });
  return n;
}

/** Calls `visit` for each length-delimited field of the message in [start, end); skips the others. */
function forEachField(buf: Uint8Array, start: number, end: number, visit: (field: number, start: number, end: number) => void): void {
  let pos = start;
  const varint = (): number => {
    let value = 0;
    let shift = 0;
    for (;;) {
      const byte = buf[pos++] ?? 0;
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80 || pos >= end) return value;
      shift += 7;
    }
  };
  while (pos < end) {
    const key = varint();
    const wireType = key % 8;
    const field = Math.floor(key / 8);
    if (wireType === 0) varint();
    else if (wireType === 1) pos += 8;
    else if (wireType === 5) pos += 4;
    else if (wireType === 2) {
      const length = varint();
      visit(field, pos, pos + length);
      pos += length;
    } else return; // groups: not in OTLP
  }
}
