import * as grpc from '@grpc/grpc-js';
import * as net from 'node:net';
import { performance } from 'node:perf_hooks';
import { expect } from 'chai';
import { findFreePort, httpGetText, Mesh, parsePrometheusText, type Sidecar } from '@weft/harness';
import { API, apply, callVia, echoOf, startEchoApp, waitFor, type EchoApp } from './fixtures';

/** A gRPC service defined in code with JSON messages, served by grpc-js (HTTP/2 without TLS). */
interface Msg {
  readonly text: string;
  readonly n?: number;
}

const json = { serialize: (m: Msg): Buffer => Buffer.from(JSON.stringify(m)), deserialize: (b: Buffer): Msg => JSON.parse(b.toString()) as Msg };
const method = (name: string, requestStream: boolean, responseStream: boolean): grpc.MethodDefinition<Msg, Msg> => ({
  path: `/weft.test.Echo/${name}`,
  requestStream,
  responseStream,
  requestSerialize: json.serialize,
  requestDeserialize: json.deserialize,
  responseSerialize: json.serialize,
  responseDeserialize: json.deserialize,
});
const SERVICE = { unary: method('Unary', false, false), slow: method('Slow', false, false), list: method('List', false, true), chat: method('Chat', true, true) };

type Client = grpc.Client & {
  unary(m: Msg, cb: (e: grpc.ServiceError | null, r?: Msg) => void): grpc.ClientUnaryCall;
  slow(m: Msg, md: grpc.Metadata, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null) => void): grpc.ClientUnaryCall;
  list(m: Msg): grpc.ClientReadableStream<Msg>;
  chat(): grpc.ClientDuplexStream<Msg, Msg>;
};

function startGrpcApp(): Promise<{ server: grpc.Server; port: number }> {
  const server = new grpc.Server();
  server.addService(SERVICE, {
    unary: (call: grpc.ServerUnaryCall<Msg, Msg>, cb: grpc.sendUnaryData<Msg>) => {
      if (call.request.text === 'fail') return cb({ code: grpc.status.FAILED_PRECONDITION, details: 'stock is empty' });
      const trailer = new grpc.Metadata();
      trailer.set('x-served-by', 'greeter');
      cb(null, { text: `hello ${call.request.text} from ${String(call.metadata.get('x-weft-peer-identity')[0])}` }, trailer);
    },
    slow: (call: grpc.ServerUnaryCall<Msg, Msg>, cb: grpc.sendUnaryData<Msg>) => {
      const timer = setTimeout(() => cb(null, { text: 'late' }), 3_000);
      call.on('cancelled', () => clearTimeout(timer));
    },
    list: (call: grpc.ServerWritableStream<Msg, Msg>) => {
      for (let i = 0; i < (call.request.n ?? 0); i++) call.write({ text: `row ${i}` });
      call.end();
    },
    chat: (call: grpc.ServerDuplexStream<Msg, Msg>) => {
      call.on('data', (m: Msg) => call.write({ text: `re: ${m.text}` }));
      call.on('end', () => call.end());
    },
  });
  return new Promise((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve({ server, port }))),
  );
}

function unary(client: Client, text: string): Promise<{ res?: Msg; err?: grpc.ServiceError; trailers?: grpc.Metadata }> {
  return new Promise((resolve) => {
    let outcome: { res?: Msg; err?: grpc.ServiceError } | undefined;
    let trailers: grpc.Metadata | undefined;
    const done = (): void => void (outcome && trailers && resolve({ ...outcome, trailers }));
    const call = client.unary({ text }, (err, res) => {
      outcome = err ? { err } : { ...(res ? { res } : {}) };
      done();
    });
    call.on('status', (s: grpc.StatusObject) => {
      trailers = s.metadata;
      done();
    });
  });
}

function grpcClient(caller: Sidecar): Client {
  const Ctor = grpc.makeGenericClientConstructor(SERVICE, 'Echo');
  return new Ctor(`127.0.0.1:${caller.outboundPort}`, grpc.credentials.createInsecure(), { 'grpc.default_authority': 'greeter', 'grpc.enable_http_proxy': 0 }) as unknown as Client;
}

describe('protocols through real sidecar processes: gRPC and HTTP/1.1 apps with no --app-protocol, and TCP (--tcp-forward)', function () {
  this.timeout(60_000);
  const mesh = new Mesh();
  let grpcApp: { server: grpc.Server; port: number };
  let tcpApp: net.Server;
  let frontendApp: EchoApp;
  let webApp: EchoApp;
  let frontend: Sidecar;
  let reports: Sidecar;
  let client: Client;
  let reportsClient: Client;
  let tcpPort: number;

  before(async () => {
    const cp = await mesh.startControlPlane();
    // In force before the sidecars start: their first config already has it.
    await apply(mesh, `${API}\nkind: Route\nmetadata: {name: greeter}\nspec: {service: greeter, rules: [{timeout: 300ms}]}\n`);
    grpcApp = await startGrpcApp();
    tcpApp = net.createServer({ allowHalfOpen: true }, (s) => s.on('error', () => undefined).pipe(s));
    await new Promise<void>((resolve) => tcpApp.listen(0, '127.0.0.1', resolve));
    frontendApp = await startEchoApp('frontend');
    webApp = await startEchoApp('web');
    tcpPort = await findFreePort();
    const tokens = await Promise.all(['greeter', 'web', 'db', 'frontend', 'reports'].map((s) => mesh.createToken(s)));
    const [greeterToken, webToken, dbToken, frontendToken, reportsToken] = tokens as [string, string, string, string, string];
    [, , , frontend, reports] = await Promise.all([
      // Neither the gRPC server's sidecar nor the HTTP/1.1 app's is told what its app speaks.
      mesh.startSidecar({ service: 'greeter', appPort: grpcApp.port, token: greeterToken, controlPlane: cp.endpoint }),
      mesh.startSidecar({ service: 'web', appPort: webApp.port, token: webToken, controlPlane: cp.endpoint }),
      mesh.startSidecar({ service: 'db', appPort: (tcpApp.address() as net.AddressInfo).port, token: dbToken, controlPlane: cp.endpoint, extraArgs: ['--app-protocol', 'tcp'] }),
      mesh.startSidecar({ service: 'frontend', appPort: frontendApp.port, token: frontendToken, controlPlane: cp.endpoint, extraArgs: ['--tcp-forward', `${tcpPort}=db`] }),
      // A caller that carries its app's HTTP/1.1 to other sidecars as HTTP/2 (its own app is never called).
      mesh.startSidecar({ service: 'reports', appPort: frontendApp.port, token: reportsToken, controlPlane: cp.endpoint, extraArgs: ['--http1-upstream', 'h2'] }),
    ]);
    client = grpcClient(frontend);
    reportsClient = grpcClient(reports);
    await waitFor('greeter to be reachable through frontend', async () => ((await unary(client, 'probe')).res ? true : undefined), 15_000);
    await waitFor('web to be reachable through reports', async () => ((await callVia(reports, 'web')).status === 200 ? true : undefined), 15_000);
  });

  after(async () => {
    client?.close();
    reportsClient?.close();
    await mesh.close();
    grpcApp?.server.forceShutdown();
    await Promise.all([new Promise((r) => tcpApp?.close(r)), frontendApp?.close(), webApp?.close()]);
  });

  it('carries a unary call with its trailers, and the app learns the caller from its certificate', async () => {
    const { res, trailers } = await unary(client, 'ada');
    expect(res?.text).to.equal('hello ada from spiffe://weft.local/ns/default/sa/frontend');
    expect(trailers?.get('x-served-by')).to.deep.equal(['greeter']);
  });

  it('streams from the server, and both ways at once', async () => {
    const rows: string[] = [];
    for await (const m of client.list({ text: '', n: 4 }) as AsyncIterable<Msg>) rows.push(m.text);
    expect(rows).to.deep.equal(['row 0', 'row 1', 'row 2', 'row 3']);

    const chat = client.chat();
    const replies: string[] = [];
    await new Promise<void>((resolve, reject) => {
      chat.on('error', reject);
      chat.on('data', (m: Msg) => {
        replies.push(m.text);
        if (replies.length < 3) chat.write({ text: `line ${replies.length}` });
        else chat.end();
      });
      chat.on('end', () => resolve());
      chat.write({ text: 'line 0' });
    });
    expect(replies).to.deep.equal(['re: line 0', 're: line 1', 're: line 2']);
  });

  it('speaks HTTP/1.1 to an HTTP/1.1 app behind the same default, over pooled HTTP/1.1 and over --http1-upstream h2', async () => {
    expect(echoOf(await callVia(frontend, 'web', { path: '/pooled' })).url).to.equal('/pooled');
    expect(echoOf(await callVia(reports, 'web', { path: '/muxed', method: 'POST', body: 'abc' }))).to.deep.include({ url: '/muxed', bodyBytes: 3 });
    // The marker that told web's sidecar what reports' app spoke stayed between the sidecars.
    expect(webApp.received.at(-1)?.headers).not.to.have.property('x-weft-caller-protocol');
  });

  it('carries gRPC from a caller whose HTTP/1.1 goes as HTTP/2 (--http1-upstream h2), too', async () => {
    const { res } = await unary(reportsClient, 'grace');
    expect(res?.text).to.equal('hello grace from spiffe://weft.local/ns/default/sa/reports');
  });

  it('delivers a non-OK status and message intact, and the caller counts it by grpc_status', async () => {
    const { err } = await unary(client, 'fail');
    expect(err?.code).to.equal(grpc.status.FAILED_PRECONDITION);
    expect(err?.details).to.equal('stock is empty');
    const samples = parsePrometheusText(await httpGetText(frontend.adminPort, '/metrics'));
    const failed = samples.find((s) => s.name === 'weft_requests_total' && s.labels['destination'] === 'greeter.default' && s.labels['grpc_status'] === '9');
    expect(failed?.value).to.equal(1);
  });

  it('ends a call at the route timeout (shorter than its deadline) with DEADLINE_EXCEEDED from the sidecar', async () => {
    const startedAt = performance.now();
    const err = await new Promise<grpc.ServiceError | null>((resolve) => client.slow({ text: '' }, new grpc.Metadata(), { deadline: Date.now() + 5_000 }, resolve));
    expect(err?.code).to.equal(grpc.status.DEADLINE_EXCEEDED);
    expect(err?.details).to.contain('did not answer within 300ms');
    expect(performance.now() - startedAt).to.be.lessThan(2_000);
  });

  it('forwards a local TCP port to a service over mTLS, bytes intact both ways', async () => {
    const payload = Buffer.from('x'.repeat(200_000));
    const echoed = await new Promise<Buffer>((resolve, reject) => {
      const socket = net.connect({ port: tcpPort, host: '127.0.0.1', allowHalfOpen: true }, () => socket.end(payload));
      const chunks: Buffer[] = [];
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.on('end', () => resolve(Buffer.concat(chunks)));
      socket.on('error', reject);
    });
    expect(echoed.equals(payload)).to.equal(true);
  });
});
