import * as grpc from '@grpc/grpc-js';

/**
 * A small gRPC echo service for the protocol suites, defined in code with JSON messages (no
 * .proto needed): one method of each kind, plus one that fails and one that hangs until
 * cancelled. It runs as an h2c app (what `--app-protocol h2c` forwards to) inside the test
 * process, so a test sees what reached the app.
 */
export interface EchoMsg {
  readonly text: string;
  readonly n?: number;
}

const json = {
  serialize: (value: EchoMsg): Buffer => Buffer.from(JSON.stringify(value)),
  deserialize: (bytes: Buffer): EchoMsg => JSON.parse(bytes.toString('utf8')) as EchoMsg,
};

function method(name: string, requestStream: boolean, responseStream: boolean): grpc.MethodDefinition<EchoMsg, EchoMsg> {
  return {
    path: `/weft.test.Echo/${name}`,
    requestStream,
    responseStream,
    requestSerialize: json.serialize,
    requestDeserialize: json.deserialize,
    responseSerialize: json.serialize,
    responseDeserialize: json.deserialize,
  };
}

export const GRPC_ECHO_SERVICE = {
  unary: method('Unary', false, false),
  fail: method('Fail', false, false),
  slow: method('Slow', false, false),
  serverStream: method('ServerStream', false, true),
  clientStream: method('ClientStream', true, false),
  bidi: method('Bidi', true, true),
} satisfies grpc.ServiceDefinition;

export type GrpcEchoClient = grpc.Client & {
  unary(req: EchoMsg, metadata: grpc.Metadata, options: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: EchoMsg) => void): grpc.ClientUnaryCall;
  fail(req: EchoMsg, cb: (err: grpc.ServiceError | null, res?: EchoMsg) => void): grpc.ClientUnaryCall;
  slow(req: EchoMsg, metadata: grpc.Metadata, options: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: EchoMsg) => void): grpc.ClientUnaryCall;
  serverStream(req: EchoMsg): grpc.ClientReadableStream<EchoMsg>;
  clientStream(cb: (err: grpc.ServiceError | null, res?: EchoMsg) => void): grpc.ClientWritableStream<EchoMsg>;
  bidi(): grpc.ClientDuplexStream<EchoMsg, EchoMsg>;
};

/** What the server saw, so that tests can check what reached the app. */
export interface GrpcEchoLog {
  peerIdentities: string[];
  /** Milliseconds from arrival to the call's deadline, as the server understood grpc-timeout. */
  deadlinesMs: number[];
  cancelled: number;
}

export interface GrpcEchoServer {
  readonly port: number;
  readonly log: GrpcEchoLog;
  close(): Promise<void>;
}

/** Starts the echo service as an h2c app on 127.0.0.1 (what `--app-protocol h2c` forwards to). */
export async function startGrpcEcho(): Promise<GrpcEchoServer> {
  const log: GrpcEchoLog = { peerIdentities: [], deadlinesMs: [], cancelled: 0 };
  const identity = (call: { metadata: grpc.Metadata }): void => {
    log.peerIdentities.push(String(call.metadata.get('x-weft-peer-identity')[0] ?? ''));
  };
  const server = new grpc.Server();
  server.addService(GRPC_ECHO_SERVICE, {
    unary: (call: grpc.ServerUnaryCall<EchoMsg, EchoMsg>, cb: grpc.sendUnaryData<EchoMsg>) => {
      identity(call);
      const trailer = new grpc.Metadata();
      trailer.set('x-echo-trailer', `done:${call.request.text.slice(0, 64)}`); // bounded: a trailer is a header, and headers have a size limit
      cb(null, { text: `echo:${call.request.text}` }, trailer);
    },
    fail: (call: grpc.ServerUnaryCall<EchoMsg, EchoMsg>, cb: grpc.sendUnaryData<EchoMsg>) => {
      identity(call);
      cb({ code: grpc.status.NOT_FOUND, details: `no item "${call.request.text}" ☃ (100% sure)` });
    },
    slow: (call: grpc.ServerUnaryCall<EchoMsg, EchoMsg>, cb: grpc.sendUnaryData<EchoMsg>) => {
      const deadline = call.getDeadline();
      log.deadlinesMs.push(deadline instanceof Date ? deadline.getTime() - Date.now() : Number(deadline) - Date.now());
      const timer = setTimeout(() => cb(null, { text: 'late' }), 3_000);
      call.on('cancelled', () => {
        log.cancelled += 1;
        clearTimeout(timer);
      });
    },
    serverStream: (call: grpc.ServerWritableStream<EchoMsg, EchoMsg>) => {
      const count = call.request.n ?? 0;
      for (let i = 0; i < count; i++) call.write({ text: `${call.request.text}-${i}`, n: i });
      call.end();
    },
    clientStream: (call: grpc.ServerReadableStream<EchoMsg, EchoMsg>, cb: grpc.sendUnaryData<EchoMsg>) => {
      let sum = 0;
      const texts: string[] = [];
      call.on('data', (m: EchoMsg) => {
        sum += m.n ?? 0;
        texts.push(m.text);
      });
      call.on('end', () => cb(null, { text: texts.join(','), n: sum }));
    },
    bidi: (call: grpc.ServerDuplexStream<EchoMsg, EchoMsg>) => {
      call.on('data', (m: EchoMsg) => call.write({ text: `pong:${m.text}`, n: m.n ?? 0 }));
      call.on('end', () => call.end());
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return { port, log, close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())).finally(() => server.forceShutdown()) };
}

/** A client that sends to a sidecar's outbound port, naming `service` as the :authority. */
export function grpcEchoClient(outboundPort: number, service: string): GrpcEchoClient {
  const Client = grpc.makeGenericClientConstructor(GRPC_ECHO_SERVICE, 'Echo');
  return new Client(`127.0.0.1:${outboundPort}`, grpc.credentials.createInsecure(), {
    'grpc.default_authority': service,
    'grpc.enable_http_proxy': 0,
  }) as unknown as GrpcEchoClient;
}

/** A unary call; resolves with the answer and the trailers, or rejects with the status. */
export function grpcEchoUnary(client: GrpcEchoClient, text: string, deadlineMs?: number): Promise<{ res: EchoMsg; trailers: grpc.Metadata }> {
  return new Promise((resolve, reject) => {
    // The callback and the 'status' event (which carries the trailers) may come in either order.
    let result: { err: grpc.ServiceError | null; res?: EchoMsg } | undefined;
    let trailers: grpc.Metadata | undefined;
    const settle = (): void => {
      if (!result || !trailers) return;
      if (result.err) reject(result.err);
      else resolve({ res: result.res as EchoMsg, trailers });
    };
    const options: grpc.CallOptions = deadlineMs === undefined ? {} : { deadline: Date.now() + deadlineMs };
    const call = client.unary({ text }, new grpc.Metadata(), options, (err, res) => {
      result = { err, ...(res ? { res } : {}) };
      settle();
    });
    call.on('status', (s: grpc.StatusObject) => {
      trailers = s.metadata;
      settle();
    });
  });
}

/** Calls Slow (which never answers in time) with a deadline; resolves with the status it ended with. */
export function grpcEchoSlow(client: GrpcEchoClient, deadlineMs: number): Promise<grpc.ServiceError | undefined> {
  return new Promise((resolve) => {
    client.slow({ text: 'x' }, new grpc.Metadata(), { deadline: Date.now() + deadlineMs }, (err) => resolve(err ?? undefined));
  });
}
