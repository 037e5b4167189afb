import * as grpc from '@grpc/grpc-js';
import * as net from 'node:net';
import { performance } from 'node:perf_hooks';
import { expect } from 'chai';
import {
  findFreePort,
  grpcEchoClient,
  grpcEchoSlow,
  grpcEchoUnary,
  httpGetText,
  Mesh,
  parsePrometheusText,
  startGrpcEcho,
  waitFor,
  type EchoMsg,
  type GrpcEchoClient,
  type GrpcEchoServer,
  type Sidecar,
} from '@weft/harness';
import { API, apply, callVia, echoOf, startEchoApp, type EchoApp } from './fixtures';

describe('protocols through real sidecar processes: gRPC and HTTP/1.1 apps with no --app-protocol, and TCP (--tcp-forward)', function () {
  this.timeout(60_000);
  const mesh = new Mesh();
  let grpcApp: GrpcEchoServer;
  let tcpApp: net.Server;
  let frontendApp: EchoApp;
  let webApp: EchoApp;
  let frontend: Sidecar;
  let reports: Sidecar;
  let client: GrpcEchoClient;
  let reportsClient: GrpcEchoClient;
  let tcpPort: number;

  before(async () => {
    const cp = await mesh.startControlPlane();
    // In force before the sidecars start: their first config already has it.
    await apply(mesh, `${API}\nkind: Route\nmetadata: {name: greeter}\nspec: {service: greeter, rules: [{timeout: 300ms}]}\n`);
    grpcApp = await startGrpcEcho();
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
    client = grpcEchoClient(frontend.outboundPort, 'greeter');
    reportsClient = grpcEchoClient(reports.outboundPort, 'greeter');
    await waitFor('greeter to be reachable through frontend', async () => (await grpcEchoUnary(client, 'probe')).res, 15_000);
    await waitFor('web to be reachable through reports', async () => ((await callVia(reports, 'web')).status === 200 ? true : undefined), 15_000);
  });

  after(async () => {
    client?.close();
    reportsClient?.close();
    await mesh.close();
    await Promise.all([grpcApp?.close(), new Promise((r) => tcpApp?.close(r)), frontendApp?.close(), webApp?.close()]);
  });

  it('carries a unary call with its trailers, and the app learns the caller from its certificate', async () => {
    const { res, trailers } = await grpcEchoUnary(client, 'ada');
    expect([res.text, grpcApp.log.peerIdentities.at(-1)]).to.deep.equal(['echo:ada', 'spiffe://weft.local/ns/default/sa/frontend']);
    expect(trailers.get('x-echo-trailer')).to.deep.equal(['done:ada']);
  });

  it('streams from the server, and both ways at once', async () => {
    const rows: string[] = [];
    for await (const m of client.serverStream({ text: 'row', n: 4 }) as AsyncIterable<EchoMsg>) rows.push(m.text);
    expect(rows).to.deep.equal(['row-0', 'row-1', 'row-2', 'row-3']);

    const chat = client.bidi();
    const replies: string[] = [];
    await new Promise<void>((resolve, reject) => {
      chat.on('error', reject);
      chat.on('data', (m: EchoMsg) => {
        replies.push(m.text);
        if (replies.length < 3) chat.write({ text: `line ${replies.length}` });
        else chat.end();
      });
      chat.on('end', () => resolve());
      chat.write({ text: 'line 0' });
    });
    expect(replies).to.deep.equal(['pong:line 0', 'pong:line 1', 'pong:line 2']);
  });

  it('speaks HTTP/1.1 to an HTTP/1.1 app behind the same default, over pooled HTTP/1.1 and over --http1-upstream h2', async () => {
    expect(echoOf(await callVia(frontend, 'web', { path: '/pooled' })).url).to.equal('/pooled');
    expect(echoOf(await callVia(reports, 'web', { path: '/muxed', method: 'POST', body: 'abc' }))).to.deep.include({ url: '/muxed', bodyBytes: 3 });
    // The marker that told web's sidecar what reports' app spoke stayed between the sidecars.
    expect(webApp.received.at(-1)?.headers).not.to.have.property('x-weft-caller-protocol');
  });

  it('carries gRPC from a caller whose HTTP/1.1 goes as HTTP/2 (--http1-upstream h2), too', async () => {
    const { res } = await grpcEchoUnary(reportsClient, 'grace');
    expect([res.text, grpcApp.log.peerIdentities.at(-1)]).to.deep.equal(['echo:grace', 'spiffe://weft.local/ns/default/sa/reports']);
  });

  it('delivers a non-OK status and message intact, and the caller counts it by grpc_status', async () => {
    const err = await new Promise<grpc.ServiceError | null>((resolve) => client.fail({ text: 'stock' }, resolve));
    expect(err?.code).to.equal(grpc.status.NOT_FOUND);
    expect(err?.details).to.equal('no item "stock" ☃ (100% sure)');
    const samples = parsePrometheusText(await httpGetText(frontend.adminPort, '/metrics'));
    const failed = samples.find((s) => s.name === 'weft_requests_total' && s.labels['destination'] === 'greeter.default' && s.labels['grpc_status'] === '5');
    expect(failed?.value).to.equal(1);
  });

  it('ends a call at the route timeout (shorter than its deadline) with DEADLINE_EXCEEDED from the sidecar', async () => {
    const startedAt = performance.now();
    const err = await grpcEchoSlow(client, 5_000);
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
