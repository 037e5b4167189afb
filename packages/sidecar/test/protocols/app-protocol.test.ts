import { connect, type ClientHttp2Session } from 'node:http2';
import { expect } from 'chai';
import { type EchoMsg, grpcEchoClient, type GrpcEchoClient, grpcEchoUnary, startGrpcEcho, type GrpcEchoServer } from '@weft/harness';
import type { WeftEvents } from '../../src/telemetry/events';
import { TestMesh, type Caller, type Instance } from '../scenarios/mesh-fixture';
import { startDualProtocolApp, type DualProtocolApp } from './dual-protocol-app';
import { h2Request } from './h2-request';

describe('protocols: an app whose protocol is not declared is spoken to in the protocol its caller spoke', function () {
  this.timeout(20_000);
  let mesh: TestMesh;
  let app: DualProtocolApp;
  let dual: Omit<Instance, 'app'>;
  let grpcServer: GrpcEchoServer;
  let caller: Caller;
  let muxed: Caller;
  let session: ClientHttp2Session;
  let client: GrpcEchoClient;
  const arrivedAs: string[] = [];

  before(async () => {
    mesh = new TestMesh();
    app = await startDualProtocolApp();
    grpcServer = await startGrpcEcho();
    // Neither sidecar is told what its app speaks.
    dual = await mesh.addSidecar('dual', app.port);
    await mesh.addSidecar('greeter', grpcServer.port);
    dual.telemetry.events.on('weft:request-end', (e: WeftEvents['weft:request-end']) => arrivedAs.push(e.record.protocol));
    caller = await mesh.addCaller('frontend');
    muxed = await mesh.addCaller('reports', { http1Upstream: 'h2' });
    mesh.push();
    session = connect(`http://127.0.0.1:${caller.outbound.port}`);
    client = grpcEchoClient(caller.outbound.port, 'greeter');
  });
  after(async () => {
    session?.destroy();
    client?.close();
    await mesh?.close();
    await Promise.all([app?.close(), grpcServer?.close()]);
  });

  it('keeps HTTP/2 from the app HTTP/2 all the way: h2c to the app', async () => {
    const res = await h2Request(session, '/h2', 'dual');
    expect(res.headers[':status']).to.equal(200);
    expect(res.headers['x-app-saw']).to.equal('HTTP/2.0 marker=(none)');
  });

  it('keeps HTTP/1.1 from the app HTTP/1.1 to the app', async () => {
    const res = await caller.send('/h1', { host: 'dual' });
    expect(res.status).to.equal(200);
    expect(res.headers['x-app-saw']).to.equal('HTTP/1.1 marker=(none)');
  });

  it('speaks HTTP/1.1 to the app when the calling sidecar carried HTTP/1.1 as HTTP/2 (--http1-upstream h2), and the marker stays between the sidecars', async () => {
    arrivedAs.length = 0;
    const res = await muxed.send('/muxed', { host: 'dual', method: 'POST', body: 'x' });
    expect(res.headers['x-app-saw']).to.equal('HTTP/1.1 marker=(none)');
    expect(arrivedAs).to.deep.equal(['h2']);
  });

  it('removes a marker the app sends itself: it cannot make the destination speak HTTP/1.1 to an HTTP/2 caller', async () => {
    const res = await h2Request(session, '/spoof', 'dual', undefined, { 'x-weft-caller-protocol': 'http1' });
    expect(res.headers['x-app-saw']).to.equal('HTTP/2.0 marker=(none)');
  });

  it('carries gRPC to a gRPC server with no --app-protocol: unary, and streams both ways', async () => {
    expect((await grpcEchoUnary(client, 'hi')).res.text).to.equal('echo:hi');
    const rows: string[] = [];
    for await (const m of client.serverStream({ text: 'row', n: 3 }) as AsyncIterable<EchoMsg>) rows.push(m.text);
    expect(rows).to.deep.equal(['row-0', 'row-1', 'row-2']);
    const call = client.bidi();
    const replies = new Promise<string[]>((resolve, reject) => {
      const got: string[] = [];
      call.on('data', (m: EchoMsg) => got.push(m.text));
      call.on('end', () => resolve(got));
      call.on('error', reject);
    });
    call.write({ text: 'a' });
    call.write({ text: 'b' });
    call.end();
    expect(await replies).to.deep.equal(['pong:a', 'pong:b']);
  });

  it('ignores the marker from a plaintext caller (PERMISSIVE): only a peer sidecar may send it', async () => {
    mesh.setMeshConfig({ mtls: 'PERMISSIVE' });
    mesh.push();
    const plain = connect(`http://127.0.0.1:${dual.inbound.port}`);
    try {
      const res = await h2Request(plain, '/plain', 'dual', undefined, { 'x-weft-caller-protocol': 'http1' });
      expect(res.headers['x-app-saw']).to.equal('HTTP/2.0 marker=(none)');
    } finally {
      plain.destroy();
    }
  });
});
