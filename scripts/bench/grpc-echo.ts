/**
 * `node scripts/dist/bench/grpc-echo.js`: the gRPC upstream of the benchmark, a grpc-js server
 * (h2c, loopback) with one unary method, `/bench.Echo/Unary`, that answers with the request's
 * message bytes. Messages stay opaque bytes (no protobuf decoding), so the work per call is the
 * same whichever proxy is in front. Prints `{"msg":"listening","port":N}` when it serves.
 *
 * Debian has no small non-Node gRPC server; every configuration talks to this same process.
 */
import * as grpc from '@grpc/grpc-js';

export const ECHO_PATH = '/bench.Echo/Unary';

const identity = { serialize: (b: Buffer): Buffer => b, deserialize: (b: Buffer): Buffer => b };
const SERVICE: grpc.ServiceDefinition = {
  unary: {
    path: ECHO_PATH,
    requestStream: false,
    responseStream: false,
    requestSerialize: identity.serialize,
    requestDeserialize: identity.deserialize,
    responseSerialize: identity.serialize,
    responseDeserialize: identity.deserialize,
  },
};

/**
 * One call through whatever listens on `port` (a proxy or the server itself) with `authority` as
 * :authority; resolves with the answer's bytes. Checks, before any load, that a configuration
 * really carries valid gRPC (status OK in the trailers), which h2load does not look at.
 */
export function grpcEchoCall(port: number, authority: string, message: Buffer): Promise<Buffer> {
  const Client = grpc.makeGenericClientConstructor(SERVICE, 'Echo');
  const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { 'grpc.default_authority': authority, 'grpc.enable_http_proxy': 0 });
  return new Promise<Buffer>((resolve, reject) => {
    const call = client['unary'] as (m: Buffer, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r?: Buffer) => void) => void;
    call.call(client, message, { deadline: Date.now() + 5_000 }, (err, reply) => (err || !reply ? reject(err ?? new Error('no reply')) : resolve(reply)));
  }).finally(() => client.close());
}

function main(): void {
  const server = new grpc.Server();
  server.addService(SERVICE, { unary: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => cb(null, call.request) });
  server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => {
    if (err) {
      process.stderr.write(`${JSON.stringify({ msg: 'bind failed', error: err.message })}\n`);
      process.exit(1);
    }
    process.stdout.write(`${JSON.stringify({ msg: 'listening', port })}\n`);
  });
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => server.tryShutdown(() => process.exit(0)));
}

if (require.main === module) main();
