import * as grpc from '@grpc/grpc-js';
import { connect, constants, type IncomingHttpHeaders } from 'node:http2';
import { performance } from 'node:perf_hooks';
import { expect } from 'chai';
import {
  type EchoMsg,
  grpcEchoClient,
  type GrpcEchoClient,
  type GrpcEchoLog,
  grpcEchoSlow,
  grpcEchoUnary,
} from '@weft/harness';
import { resource, type TestMesh, type Caller } from '../scenarios/mesh-fixture';
import { startGrpcMesh, type GrpcMesh } from './grpc-mesh';

/**
 * A bidi ping-pong of five messages: each is sent only after the previous answer came back, so a
 * proxy that waited for the end of the request stream would hang here.
 */
function pingPong(client: GrpcEchoClient): Promise<string[]> {
  const call = client.bidi();
  const replies: string[] = [];
  return new Promise<string[]>((resolve, reject) => {
    call.on('error', reject);
    call.on('data', (m: EchoMsg) => {
      replies.push(m.text);
      if (replies.length < 5) call.write({ text: `p${replies.length}` });
      else call.end();
    });
    call.on('end', () => resolve(replies));
    call.write({ text: 'p0' });
  });
}

describe('protocols: gRPC through two sidecars', function () {
  this.timeout(20_000);
  let grpcMesh: GrpcMesh;
  let mesh: TestMesh;
  let caller: Caller;
  let client: GrpcEchoClient;
  let log: GrpcEchoLog;

  before(async () => {
    // The route's timeout (300ms) sits between the short (100ms) and long (5s) deadlines below.
    grpcMesh = await startGrpcMesh('300ms');
    ({ mesh, caller, client } = grpcMesh);
    log = grpcMesh.server.log;
  });
  after(async () => {
    await grpcMesh?.close();
  });

  it('carries a unary call with its trailers, and tells the app who called', async () => {
    const { res, trailers } = await grpcEchoUnary(client, 'hello');
    expect(res.text).to.equal('echo:hello');
    expect(trailers.get('x-echo-trailer')).to.deep.equal(['done:hello']);
    expect(log.peerIdentities.at(-1)).to.equal('spiffe://weft.local/ns/default/sa/frontend');
  });

  it('carries a non-OK status and its message intact (a trailers-only answer), and counts it by grpc_status', async () => {
    const err = await new Promise<grpc.ServiceError | null>((resolve) => client.fail({ text: 'sku-9' }, (e) => resolve(e)));
    expect(err?.code).to.equal(grpc.status.NOT_FOUND);
    expect(err?.details).to.equal('no item "sku-9" ☃ (100% sure)');
    const metrics = caller.telemetry.renderMetrics();
    expect(metrics).to.match(/weft_requests_total\{direction="outbound",[^}]*code="200",grpc_status="5"\} 1/);
  });

  it('streams server responses as they are written', async () => {
    const call = client.serverStream({ text: 'item', n: 5 });
    const got: EchoMsg[] = [];
    for await (const m of call as AsyncIterable<EchoMsg>) got.push(m);
    expect(got.map((m) => m.text)).to.deep.equal(['item-0', 'item-1', 'item-2', 'item-3', 'item-4']);
  });

  it('streams client messages and answers once the client is done', async () => {
    const res = await new Promise<EchoMsg>((resolve, reject) => {
      const call = client.clientStream((err, r) => (err ? reject(err) : resolve(r as EchoMsg)));
      for (let i = 1; i <= 4; i++) call.write({ text: `m${i}`, n: i });
      call.end();
    });
    expect(res).to.deep.equal({ text: 'm1,m2,m3,m4', n: 10 });
  });

  it('streams both ways at once: each message is sent only after the previous answer came back', async () => {
    expect(await pingPong(client)).to.deep.equal(['pong:p0', 'pong:p1', 'pong:p2', 'pong:p3', 'pong:p4']);
  });

  it('streams both ways when the route retries: the replay copy never holds the stream back', async () => {
    // A retry policy keeps a copy of the request body for replay; it must not wait for the end of
    // a request stream before the first attempt, or this ping-pong would stall until the timeout.
    mesh.setResources([
      resource('Route', 'greeter', { service: 'greeter', rules: [{ timeout: '3s', retries: { attempts: 2, retryOn: ['unavailable', '5xx'] } }] }),
    ]);
    mesh.push();
    try {
      expect(await pingPong(client)).to.deep.equal(['pong:p0', 'pong:p1', 'pong:p2', 'pong:p3', 'pong:p4']);
    } finally {
      mesh.setResources([resource('Route', 'greeter', { service: 'greeter', rules: [{ timeout: '300ms' }] })]);
      mesh.push();
    }
  });

  it("enforces the caller's deadline when it is shorter than the route timeout, and tells the server", async () => {
    const err = await grpcEchoSlow(client, 100);
    expect(err?.code).to.equal(grpc.status.DEADLINE_EXCEEDED);
    expect(log.deadlinesMs.at(-1)).to.be.within(0, 110); // the server got what remained of 100ms, not the route's 300ms
  });

  it('cuts a longer deadline to the route timeout: the sidecar answers DEADLINE_EXCEEDED, not 504', async () => {
    const startedAt = performance.now();
    const err = await grpcEchoSlow(client, 5_000);
    const tookMs = performance.now() - startedAt;
    expect(err?.code).to.equal(grpc.status.DEADLINE_EXCEEDED);
    expect(err?.details).to.contain('did not answer within 300ms');
    expect(tookMs).to.be.within(280, 1_500);
    expect(log.deadlinesMs.at(-1)).to.be.within(0, 310); // grpc-timeout upstream was the route's, not 5s
  });

  it('keeps an app\'s trailers-only error one HEADERS frame end to end, grpc-status in the headers', async () => {
    const { headers, endStream } = await rawGrpc(caller.outbound.port, '/weft.test.Echo/Fail', {});
    expect(endStream, 'trailers-only: the HEADERS frame ends the stream').to.equal(true);
    expect(headers['grpc-status']).to.equal('5');
    expect(decodeURIComponent(String(headers['grpc-message']))).to.contain('no item "x"');
  });

  it('answers a raw HTTP/2 gRPC request whose grpc-timeout passes with a trailers-only DEADLINE_EXCEEDED', async () => {
    // A client that does not enforce its own deadline: only the sidecar can end this call in time.
    const startedAt = performance.now();
    const { headers, endStream } = await rawGrpc(caller.outbound.port, '/weft.test.Echo/Slow', { 'grpc-timeout': '150m' });
    expect(performance.now() - startedAt).to.be.within(130, 290);
    expect(endStream, 'trailers-only: the HEADERS frame ends the stream').to.equal(true);
    expect(headers[':status']).to.equal(200);
    expect(headers['grpc-status']).to.equal('4');
    expect(headers['x-weft-error']).to.equal('WEFT_ERR_DEADLINE_EXCEEDED');
  });

  it("answers UNAVAILABLE, as gRPC, for a service the mesh doesn't know", async () => {
    const stranger = grpcEchoClient(caller.outbound.port, 'nowhere');
    try {
      const err = await grpcEchoUnary(stranger, 'x').then(() => undefined, (e: grpc.ServiceError) => e);
      expect(err?.code).to.equal(grpc.status.UNAVAILABLE);
      expect(err?.details).to.contain('"nowhere" has no endpoints in the mesh');
    } finally {
      stranger.close();
    }
  });
});

/** One length-prefixed gRPC message (uncompressed). */
function grpcFrame(msg: EchoMsg): Buffer {
  const body = Buffer.from(JSON.stringify(msg));
  const head = Buffer.alloc(5);
  head.writeUInt32BE(body.length, 1);
  return Buffer.concat([head, body]);
}

/** One gRPC call over a bare HTTP/2 client: the response headers, and whether they ended the stream. */
async function rawGrpc(port: number, path: string, extra: Record<string, string>): Promise<{ headers: IncomingHttpHeaders; endStream: boolean }> {
  const session = connect(`http://127.0.0.1:${port}`);
  try {
    return await new Promise((resolve, reject) => {
      const stream = session.request({ ':method': 'POST', ':path': path, ':authority': 'greeter', 'content-type': 'application/grpc', te: 'trailers', ...extra });
      stream.on('response', (headers, flags) => resolve({ headers, endStream: (flags & constants.NGHTTP2_FLAG_END_STREAM) !== 0 }));
      stream.on('error', reject);
      stream.end(grpcFrame({ text: 'x' }));
    });
  } finally {
    session.destroy();
  }
}
