/**
 * HTTP/2 rapid reset (CVE-2023-44487) on both sidecar ports: a client that opens streams and
 * resets them at once, thousands in a row on one connection, gets GOAWAY ENHANCE_YOUR_CALM and
 * loses the connection, while the app behind the sidecar sees only a bounded handful of those
 * requests. A client whose calls are cancelled the ordinary way keeps its connection.
 */
import * as http2 from 'node:http2';
import { expect } from 'chai';
import * as grpc from '@grpc/grpc-js';
import { httpGetText, Mesh, parsePrometheusText, readOperatorConfig, sumSamples, waitFor, type ClientCredential, type Sidecar } from '@weft/harness';
import type { OperatorConfig } from '@weft/api';
import { workloadCredential } from './control-plane-client';
import { startEchoApp, sleep, type EchoApp } from './fixtures';
import { connectH2, h2Get, startH2App, type H2App, type H2Target } from './h2-fixtures';

const { NGHTTP2_CANCEL, NGHTTP2_ENHANCE_YOUR_CALM } = http2.constants;

/** The sidecar's limits (`listen/h2-reset-guard.ts`): premature resets per window, and streams open at once per session. */
const RESET_LIMIT = 100;
const MAX_CONCURRENT_STREAMS = 250;
/**
 * A flood request reaches the app only if its stream was still open when the sidecar started
 * forwarding it; each of those the client then resets counts toward the limit, and at the moment
 * the limit trips at most MAX_CONCURRENT_STREAMS more can be on their way.
 */
const APP_BOUND = RESET_LIMIT + MAX_CONCURRENT_STREAMS;
const FLOOD = 20_000;

interface FloodOutcome {
  readonly sent: number;
  readonly goaway: number | undefined;
  readonly closed: boolean;
}

/** HEADERS then RST_STREAM(CANCEL), as fast as the client can, until `count` or the server closes the session. */
async function flood(session: http2.ClientHttp2Session, authority: string, count: number): Promise<FloodOutcome> {
  let goaway: number | undefined;
  session.once('goaway', (code: number) => (goaway = code));
  const closed = new Promise<void>((resolve) => session.once('close', () => resolve()));
  let sent = 0;
  sending: while (sent < count) {
    for (let i = 0; i < 200 && sent < count; i++) {
      if (session.closed || session.destroyed) break sending;
      try {
        const req = session.request({ ':method': 'GET', ':path': `/flood/${sent}`, ':authority': authority });
        req.on('error', () => undefined);
        req.close(NGHTTP2_CANCEL);
        sent += 1;
      } catch {
        break sending; // the session is going away
      }
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
  await Promise.race([closed, sleep(15_000)]);
  const outcome = { sent, goaway, closed: session.destroyed || session.closed };
  session.destroy();
  return outcome;
}

function grpcCall(client: grpc.Client, path: string, onSent?: (call: grpc.ClientUnaryCall) => void): Promise<grpc.ServiceError | null> {
  return new Promise((resolve) => {
    const call = client.makeUnaryRequest(
      path,
      (m: Buffer) => m,
      (b: Buffer) => b,
      Buffer.from('{}'),
      (err) => resolve(err),
    );
    onSent?.(call);
  });
}

async function closures(sidecar: Sidecar, direction: string): Promise<number> {
  return sumSamples(parsePrometheusText(await httpGetText(sidecar.adminPort, '/metrics')), 'weft_h2_sessions_closed_total', { direction, reason: 'rapid-reset' });
}

describe('HTTP/2 rapid reset (CVE-2023-44487) on both sidecar ports', function () {
  this.timeout(120_000);
  const mesh = new Mesh();
  let op: OperatorConfig;
  let ledgerApp: H2App;
  let frontendApp: EchoApp;
  let ledger: Sidecar;
  let frontend: Sidecar;
  let probe: ClientCredential & { spiffeId: string };

  const floods = (): readonly (readonly [string, H2Target, Sidecar, string])[] => [
    ['outbound (h2c)', { kind: 'h2c', port: frontend.outboundPort }, frontend, 'outbound'],
    ['inbound (h2 over mTLS)', { kind: 'mtls', port: ledger.inboundPort, caPem: op.caPem, credential: probe }, ledger, 'inbound'],
  ];

  before(async () => {
    const cp = await mesh.startControlPlane();
    op = readOperatorConfig(cp.configPath);
    [ledgerApp, frontendApp] = await Promise.all([startH2App(), startEchoApp('frontend')]);
    [ledger, frontend] = await Promise.all([
      mesh.startSidecar({ service: 'ledger', appPort: ledgerApp.port, token: await mesh.createToken('ledger'), controlPlane: cp.endpoint, extraArgs: ['--app-protocol', 'h2c'] }),
      mesh.startSidecar({ service: 'frontend', appPort: frontendApp.port, token: await mesh.createToken('frontend'), controlPlane: cp.endpoint }),
    ]);
    probe = await workloadCredential(op, await mesh.createToken('probe'), 'probe');
    await waitFor(
      'frontend to reach ledger over HTTP/2',
      async () => {
        const session = await connectH2({ kind: 'h2c', port: frontend.outboundPort });
        try {
          return (await h2Get(session, 'ledger', '/ready')).status === 200 ? true : undefined;
        } finally {
          session.close();
        }
      },
      15_000,
    );
  });

  after(async () => {
    await mesh.close();
    await Promise.all([ledgerApp?.close(), frontendApp?.close()]);
  });

  for (const index of [0, 1]) {
    it(`closes a session that resets thousands of streams with GOAWAY ENHANCE_YOUR_CALM, and the app sees at most ${APP_BOUND}: ${index === 0 ? 'outbound' : 'inbound'}`, async () => {
      const [port, target, sidecar, direction] = floods()[index] as readonly [string, H2Target, Sidecar, string];
      const before = ledgerApp.received.length;
      const closedBefore = await closures(sidecar, direction);
      const outcome = await flood(await connectH2(target), 'ledger', FLOOD);
      // The app's count settles once what was on its way has arrived.
      await sleep(500);
      const reached = ledgerApp.received.slice(before).filter((r) => r.path.startsWith('/flood/')).length;
      expect({ goaway: outcome.goaway, closed: outcome.closed }, `${port}: sent ${outcome.sent}`).to.deep.equal({ goaway: NGHTTP2_ENHANCE_YOUR_CALM, closed: true });
      expect(reached, `${port}: ${reached} of ${outcome.sent} flood requests reached the app`).to.be.at.most(APP_BOUND);
      expect(await closures(sidecar, direction), port).to.equal(closedBefore + 1);
      // The sidecar itself is fine: a new session is served.
      const session = await connectH2(target);
      try {
        expect((await h2Get(session, 'ledger', '/after')).status, port).to.equal(200);
      } finally {
        session.close();
      }
    });
  }

  it('keeps the session of a gRPC client whose calls are cancelled the ordinary way, dozens of them and more among successful calls', async () => {
    const client = new grpc.Client(`127.0.0.1:${frontend.outboundPort}`, grpc.credentials.createInsecure(), { 'grpc.default_authority': 'ledger', 'grpc.enable_http_proxy': 0 });
    try {
      expect(await grpcCall(client, '/weft.test.Ledger/Get')).to.equal(null);
      const before = [await closures(frontend, 'outbound'), await closures(ledger, 'inbound')];
      // A few dozen calls cancelled once the app has them (a user who navigated away), in a row.
      for (let i = 0; i < 40; i++) {
        const arrived = ledgerApp.received.length;
        const err = await grpcCall(client, '/hold.Ledger/Wait', (call) => {
          void waitFor('the call to reach the app', () => (ledgerApp.received.length > arrived ? true : undefined)).then(() => call.cancel());
        });
        expect(err?.code).to.equal(grpc.status.CANCELLED);
      }
      // More cancellations than the limit, among twice as many answered calls: a busy client, no abuse.
      for (let i = 0; i < RESET_LIMIT; i++) {
        expect(await grpcCall(client, '/weft.test.Ledger/Get')).to.equal(null);
        expect(await grpcCall(client, '/weft.test.Ledger/Get')).to.equal(null);
        const err = await grpcCall(client, '/hold.Ledger/Wait', (call) => setTimeout(() => call.cancel(), 2));
        expect(err?.code).to.equal(grpc.status.CANCELLED);
      }
      expect(await grpcCall(client, '/weft.test.Ledger/Get')).to.equal(null);
      expect([await closures(frontend, 'outbound'), await closures(ledger, 'inbound')]).to.deep.equal(before);
    } finally {
      client.close();
    }
  });
});
