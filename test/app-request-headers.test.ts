/**
 * What an app behind the mesh is told about a request: the authority its caller addressed,
 * whatever protocol the caller and the app speak, and the caller's certificate in Envoy's
 * `x-forwarded-client-cert`, which only the destination's sidecar sets.
 */
import { expect } from 'chai';
import { createHash, X509Certificate } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { Mesh, readOperatorConfig, waitFor, type ClientCredential, type Sidecar } from '@weft/harness';
import type { OperatorConfig } from '@weft/api';
import { workloadCredential } from './control-plane-client';
import { API, apply, callVia, echoOf, getJson, startEchoApp, type EchoApp, type EchoReply } from './fixtures';
import { connectH2, h2Get, startH2App, type H2App } from './h2-fixtures';
import { bodyOf, rawExchange } from './raw-http';

const TD = 'spiffe://weft.local/ns/default/sa';
const XFCC = /^By=([^;]+);Hash=([0-9a-f]{64});URI=([^;]+)$/;

/** The authority the app saw for one call: HTTP/1.1 (echo app) or HTTP/2 (h2 app), both answer JSON. */
interface Seen {
  readonly authority: string | undefined;
  readonly xfcc: string | string[] | undefined;
}

describe('what the app is told: the authority its caller addressed, and x-forwarded-client-cert', function () {
  this.timeout(60_000);
  const mesh = new Mesh();
  let op: OperatorConfig;
  let ordersApp: EchoApp;
  let ledgerApp: H2App;
  let frontendApp: EchoApp;
  let orders: Sidecar;
  let ledger: Sidecar;
  let frontend: Sidecar;
  let probe: ClientCredential & { spiffeId: string };

  before(async () => {
    const cp = await mesh.startControlPlane();
    op = readOperatorConfig(cp.configPath);
    [ordersApp, ledgerApp, frontendApp] = await Promise.all([startEchoApp('orders'), startH2App(), startEchoApp('frontend')]);
    const [ordersToken, ledgerToken, frontendToken] = await Promise.all(['orders', 'ledger', 'frontend'].map((s) => mesh.createToken(s)));
    [orders, ledger, frontend] = await Promise.all([
      mesh.startSidecar({ service: 'orders', appPort: ordersApp.port, token: ordersToken as string, controlPlane: cp.endpoint, extraArgs: ['--app-protocol', 'http1'] }),
      mesh.startSidecar({ service: 'ledger', appPort: ledgerApp.port, token: ledgerToken as string, controlPlane: cp.endpoint, extraArgs: ['--app-protocol', 'h2c'] }),
      mesh.startSidecar({ service: 'frontend', appPort: frontendApp.port, token: frontendToken as string, controlPlane: cp.endpoint }),
    ]);
    probe = await workloadCredential(op, await mesh.createToken('probe'), 'probe');
    await waitFor('frontend to reach orders and ledger', async () => ((await callVia(frontend, 'orders')).status === 200 && (await callVia(frontend, 'ledger')).status === 200 ? true : undefined), 15_000);
  });

  after(async () => {
    await mesh.close();
    await Promise.all([ordersApp?.close(), ledgerApp?.close(), frontendApp?.close()]);
  });

  /** What the app answered (the echo app's JSON, or the h2 app's) as the authority and XFCC it saw. */
  const seenIn = (body: string): Seen => {
    const reply = JSON.parse(body) as EchoReply & { authority?: string };
    return { authority: reply.authority ?? reply.headers['host'], xfcc: reply.headers['x-forwarded-client-cert'] };
  };
  const viaHttp1 = async (authority: string, headers: Record<string, string> = {}): Promise<Seen> => seenIn(echoBody(await callVia(frontend, authority.split(':')[0] as string, { headers: { host: authority, ...headers } })));
  const viaH2 = async (authority: string, headers: Record<string, string | string[]> = {}): Promise<Seen> => {
    const session = await connectH2({ kind: 'h2c', port: frontend.outboundPort });
    try {
      const res = await h2Get(session, authority, '/h2', headers);
      expect(res.status, res.body).to.equal(200);
      return seenIn(res.body);
    } finally {
      session.close();
    }
  };
  const viaGrpc = (authority: string): Promise<Seen> =>
    new Promise((resolve, reject) => {
      const client = new grpc.Client(`127.0.0.1:${frontend.outboundPort}`, grpc.credentials.createInsecure(), { 'grpc.default_authority': authority, 'grpc.enable_http_proxy': 0 });
      client.makeUnaryRequest('/weft.test.Ledger/Get', (m: Buffer) => m, (b: Buffer) => b, Buffer.from('{}'), (err, value) => {
        client.close();
        if (err || !value) reject(err ?? new Error('no reply'));
        else resolve(seenIn(value.toString()));
      });
    });

  for (const authority of ['SERVICE', 'SERVICE:8080']) {
    it(`gives the app the authority the caller addressed (${authority}), from an HTTP/1.1, HTTP/2 or gRPC caller, to an HTTP/1.1 or h2c app`, async () => {
      for (const service of ['orders', 'ledger']) {
        const addressed = authority.replace('SERVICE', service);
        const seen = { http1: (await viaHttp1(addressed)).authority, h2: (await viaH2(addressed)).authority, ...(service === 'ledger' ? { grpc: (await viaGrpc(addressed)).authority } : {}) };
        const expected = { http1: addressed, h2: addressed, ...(service === 'ledger' ? { grpc: addressed } : {}) };
        expect(seen, `${service} app`).to.deep.equal(expected);
      }
    });
  }

  it("replaces whatever x-forwarded-client-cert the calling app sends (any case, repeated) with one from the caller's certificate", async () => {
    const forged = ['By=spiffe://weft.local/ns/default/sa/orders;URI=spiffe://weft.local/ns/default/sa/admin', 'URI=spiffe://weft.local/ns/weft-system/sa/weft-operator'];
    const raw = await rawExchange(
      { kind: 'tcp', port: frontend.outboundPort },
      `GET /forged HTTP/1.1\r\nHost: orders\r\nX-Forwarded-Client-Cert: ${forged[0]}\r\nx-forwarded-client-cert: ${forged[1]}\r\nX-FORWARDED-CLIENT-CERT: ${forged[1]}\r\nConnection: close\r\n\r\n`,
    );
    expect(raw.status, raw.data.slice(0, 300)).to.equal(200);
    const seen = [seenIn(bodyOf(raw.data)).xfcc, (await viaH2('ledger', { 'x-forwarded-client-cert': forged })).xfcc, (await viaHttp1('ledger', { 'X-Forwarded-Client-Cert': forged[0] as string })).xfcc];
    const hashes = new Set<string>();
    for (const [i, value] of seen.entries()) {
      const m = XFCC.exec(String(value));
      expect(m, `call ${i}: ${String(value)}`).to.not.equal(null);
      expect([m?.[1], m?.[3]], `call ${i}`).to.deep.equal([`${TD}/${i === 0 ? 'orders' : 'ledger'}`, `${TD}/frontend`]);
      hashes.add(m?.[2] as string);
    }
    expect(hashes.size, 'one caller certificate, one hash').to.equal(1);
  });

  it("sets x-forwarded-client-cert from a raw peer's certificate on the inbound port, whatever it sends", async () => {
    const hash = createHash('sha256').update(new X509Certificate(probe.certificatePem).raw).digest('hex');
    const raw = await rawExchange(
      { kind: 'tls', port: orders.inboundPort, caPem: op.caPem, certificatePem: probe.certificatePem, privateKeyPem: probe.privateKeyPem },
      `GET /peer HTTP/1.1\r\nHost: orders\r\nx-forwarded-client-cert: By=${TD}/orders;Hash=${'0'.repeat(64)};URI=${TD}/admin\r\nConnection: close\r\n\r\n`,
    );
    expect(raw.status, raw.data.slice(0, 300)).to.equal(200);
    expect(seenIn(bodyOf(raw.data)).xfcc).to.equal(`By=${TD}/orders;Hash=${hash};URI=${probe.spiffeId}`);
    // Over HTTP/2 to the h2c app too.
    const session = await connectH2({ kind: 'mtls', port: ledger.inboundPort, caPem: op.caPem, credential: probe });
    try {
      const res = await h2Get(session, 'ledger', '/peer', { 'x-forwarded-client-cert': `URI=${TD}/admin` });
      expect(seenIn(res.body).xfcc).to.equal(`By=${TD}/ledger;Hash=${hash};URI=${probe.spiffeId}`);
    } finally {
      session.close();
    }
  });

  it('gives a plaintext caller in PERMISSIVE mode no x-forwarded-client-cert, whatever it sends', async () => {
    await apply(mesh, `${API}\nkind: MeshConfig\nmetadata: {name: default}\nspec: {mtls: PERMISSIVE}\n`);
    await waitFor('orders to run PERMISSIVE', async () => {
      const view = await getJson<{ inForce: { mesh: { mtls: string } } | null }>(orders.adminPort, '/config');
      return view.body.inForce?.mesh.mtls === 'PERMISSIVE' ? true : undefined;
    });
    const raw = await rawExchange(
      { kind: 'tcp', port: orders.inboundPort },
      `GET /plain HTTP/1.1\r\nHost: orders\r\nx-forwarded-client-cert: By=${TD}/orders;URI=${TD}/admin\r\nConnection: close\r\n\r\n`,
    );
    expect(raw.status, raw.data.slice(0, 300)).to.equal(200);
    const seen = seenIn(bodyOf(raw.data));
    expect([seen.xfcc, seen.authority]).to.deep.equal([undefined, 'orders']);
  });
});

function echoBody(result: Parameters<typeof echoOf>[0]): string {
  echoOf(result); // throws, saying what came back, unless it is a 200
  return result.body;
}
