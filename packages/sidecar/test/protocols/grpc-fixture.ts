import * as grpc from '@grpc/grpc-js';

/**
 * A small gRPC service for the protocol suites, defined in code with JSON messages (no .proto
 * needed): one method of each kind, plus one that fails and one that hangs until cancelled.
 */
export interface Msg {
  readonly text: string;
  readonly n?: number;
}

const json = {
  serialize: (value: Msg): Buffer => Buffer.from(JSON.stringify(value)),
  deserialize: (bytes: Buffer): Msg => JSON.parse(bytes.toString('utf8')) as Msg,
};

function method(name: string, requestStream: boolean, responseStream: boolean): grpc.MethodDefinition<Msg, Msg> {
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

export const ECHO_SERVICE = {
  unary: method('Unary', false, false),
  fail: method('Fail', false, false),
  slow: method('Slow', false, false),
  serverStream: method('ServerStream', false, true),
  clientStream: method('ClientStream', true, false),
  bidi: method('Bidi', true, true),
} satisfies grpc.ServiceDefinition;

export type EchoClient = grpc.Client & {
  unary(req: Msg, metadata: grpc.Metadata, options: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: Msg) => void): grpc.ClientUnaryCall;
  fail(req: Msg, cb: (err: grpc.ServiceError | null, res?: Msg) => void): grpc.ClientUnaryCall;
  slow(req: Msg, metadata: grpc.Metadata, options: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: Msg) => void): grpc.ClientUnaryCall;
  serverStream(req: Msg): grpc.ClientReadableStream<Msg>;
  clientStream(cb: (err: grpc.ServiceError | null, res?: Msg) => void): grpc.ClientWritableStream<Msg>;
  bidi(): grpc.ClientDuplexStream<Msg, Msg>;
};

/** What the server saw, so that tests can check what reached the app. */
export interface EchoServerLog {
  peerIdentities: string[];
  /** Milliseconds from arrival to the call's deadline, as the server understood grpc-timeout. */
  deadlinesMs: number[];
  cancelled: number;
}

/** Starts the echo service as an h2c app on 127.0.0.1 (what `--app-protocol h2c` forwards to). */
export async function startEchoServer(): Promise<{ port: number; log: EchoServerLog; close(): Promise<void> }> {
  const log: EchoServerLog = { peerIdentities: [], deadlinesMs: [], cancelled: 0 };
  const identity = (call: { metadata: grpc.Metadata }): void => {
    log.peerIdentities.push(String(call.metadata.get('x-weft-peer-identity')[0] ?? ''));
  };
  const server = new grpc.Server();
  server.addService(ECHO_SERVICE, {
    unary: (call: grpc.ServerUnaryCall<Msg, Msg>, cb: grpc.sendUnaryData<Msg>) => {
      identity(call);
      const trailer = new grpc.Metadata();
      trailer.set('x-echo-trailer', `done:${call.request.text}`);
      cb(null, { text: `echo:${call.request.text}` }, trailer);
    },
    fail: (call: grpc.ServerUnaryCall<Msg, Msg>, cb: grpc.sendUnaryData<Msg>) => {
      identity(call);
      cb({ code: grpc.status.NOT_FOUND, details: `no item "${call.request.text}" ☃ (100% sure)` });
    },
    slow: (call: grpc.ServerUnaryCall<Msg, Msg>, cb: grpc.sendUnaryData<Msg>) => {
      const deadline = call.getDeadline();
      log.deadlinesMs.push(deadline instanceof Date ? deadline.getTime() - Date.now() : Number(deadline) - Date.now());
      const timer = setTimeout(() => cb(null, { text: 'late' }), 3_000);
      call.on('cancelled', () => {
        log.cancelled += 1;
        clearTimeout(timer);
      });
    },
    serverStream: (call: grpc.ServerWritableStream<Msg, Msg>) => {
      const count = call.request.n ?? 0;
      for (let i = 0; i < count; i++) call.write({ text: `${call.request.text}-${i}`, n: i });
      call.end();
    },
    clientStream: (call: grpc.ServerReadableStream<Msg, Msg>, cb: grpc.sendUnaryData<Msg>) => {
      let sum = 0;
      const texts: string[] = [];
      call.on('data', (m: Msg) => {
        sum += m.n ?? 0;
        texts.push(m.text);
      });
      call.on('end', () => cb(null, { text: texts.join(','), n: sum }));
    },
    bidi: (call: grpc.ServerDuplexStream<Msg, Msg>) => {
      call.on('data', (m: Msg) => call.write({ text: `pong:${m.text}`, n: m.n ?? 0 }));
      call.on('end', () => call.end());
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return { port, log, close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())).finally(() => server.forceShutdown()) };
}

/** A client that sends to a sidecar's outbound port, naming `service` as the :authority. */
export function echoClient(outboundPort: number, service: string): EchoClient {
  const Client = grpc.makeGenericClientConstructor(ECHO_SERVICE, 'Echo');
  return new Client(`127.0.0.1:${outboundPort}`, grpc.credentials.createInsecure(), {
    'grpc.default_authority': service,
    'grpc.enable_http_proxy': 0,
  }) as unknown as EchoClient;
}

export function unary(client: EchoClient, text: string, deadlineMs?: number): Promise<{ res: Msg; trailers: grpc.Metadata }> {
  return new Promise((resolve, reject) => {
    // The callback and the 'status' event (which carries the trailers) may come in either order.
    let result: { err: grpc.ServiceError | null; res?: Msg } | undefined;
    let trailers: grpc.Metadata | undefined;
    const settle = (): void => {
      if (!result || !trailers) return;
      if (result.err) reject(result.err);
      else resolve({ res: result.res as Msg, trailers });
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

export function callSlow(client: EchoClient, deadlineMs: number): Promise<grpc.ServiceError | undefined> {
  return new Promise((resolve) => {
    client.slow({ text: 'x' }, new grpc.Metadata(), { deadline: Date.now() + deadlineMs }, (err) => resolve(err ?? undefined));
  });
}
