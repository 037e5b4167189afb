/**
 * Hardened edges of the data path: malformed, smuggled, oversized and trickled HTTP/1.1 on both
 * sidecar ports (outbound: the app's side, plain TCP; inbound: the mesh's side, mTLS with a real
 * workload certificate), and headers spoofed from outside the mesh. Whatever is sent, the app
 * behind the sidecar sees no request it should not, and both sidecars keep serving.
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { Mesh, type Sidecar } from '@weft/harness';
import type { OperatorConfig } from '@weft/api';
import { readOperatorConfig, workloadCredential, type Credential } from './control-plane-client';
import { API, apply, callVia, echoOf, getJson, startEchoApp, waitFor, type EchoApp, type EchoReply } from './fixtures';
import { bodyOf, rawExchange, type RawTarget } from './raw-http';

/** The listeners' header limits (sidecar `layers/mux-listener.ts`, LISTENER_LIMITS). */
const HEADERS_TIMEOUT_MS = 10_000;
const MAX_HEADER_BYTES = 32 * 1024;
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]$/;
const ZERO_TRACE = '0'.repeat(32);

describe('hardened edges: HTTP parsing and spoofed headers on both sidecar ports', function () {
  this.timeout(60_000);
  const mesh = new Mesh();
  let op: OperatorConfig;
  let ordersApp: EchoApp;
  let frontendApp: EchoApp;
  let orders: Sidecar;
  let frontend: Sidecar;
  let probe: Credential & { spiffeId: string };

  /** Both ports, each reaching the orders app: through frontend's outbound, or straight to orders' inbound. */
  const ports = (): readonly (readonly [string, RawTarget])[] => [
    ['outbound', { kind: 'tcp', port: frontend.outboundPort }],
    ['inbound', { kind: 'tls', port: orders.inboundPort, caPem: op.caPem, certificatePem: probe.certificatePem, privateKeyPem: probe.privateKeyPem }],
  ];
  /** What the orders app answered about a raw request: the echo body of the first response. */
  const echoed = (data: string): EchoReply => JSON.parse(bodyOf(data)) as EchoReply;

  before(async () => {
    const cp = await mesh.startControlPlane();
    op = readOperatorConfig(cp.configPath);
    [ordersApp, frontendApp] = await Promise.all([startEchoApp('orders'), startEchoApp('frontend')]);
    [orders, frontend] = await Promise.all([
      mesh.startSidecar({ service: 'orders', appPort: ordersApp.port, token: await mesh.createToken('orders'), controlPlane: cp.endpoint }),
      mesh.startSidecar({ service: 'frontend', appPort: frontendApp.port, token: await mesh.createToken('frontend'), controlPlane: cp.endpoint }),
    ]);
    // A workload certificate of our own, to speak raw HTTP to the inbound port as a peer would.
    probe = await workloadCredential(op, await mesh.createToken('probe'), 'probe');
    await waitFor('frontend to reach orders', async () => ((await callVia(frontend, 'orders')).status === 200 ? true : undefined), 15_000);
  });

  after(async () => {
    await mesh.close();
    await Promise.all([ordersApp?.close(), frontendApp?.close()]);
  });

  const SMUGGLED = 'GET /smuggled HTTP/1.1\r\nHost: orders\r\n\r\n';
  const CASES: readonly (readonly [string, string, number])[] = [
    ['headers over the limit', `GET /big HTTP/1.1\r\nHost: orders\r\nX-Big: ${'a'.repeat(MAX_HEADER_BYTES + 1024)}\r\n\r\n`, 431],
    ['Content-Length and Transfer-Encoding together', `POST /a HTTP/1.1\r\nHost: orders\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`, 400],
    ['two different Content-Lengths', `POST /a HTTP/1.1\r\nHost: orders\r\nContent-Length: 0\r\nContent-Length: ${SMUGGLED.length}\r\n\r\n${SMUGGLED}`, 400],
    ['whitespace before the colon of Transfer-Encoding', `POST /a HTTP/1.1\r\nHost: orders\r\nTransfer-Encoding : chunked\r\nContent-Length: 0\r\n\r\n${SMUGGLED}`, 400],
    ['a control character in a header value', 'GET /a HTTP/1.1\r\nHost: orders\r\nX-Evil: a\x01b\r\n\r\n', 400],
    ['a bare CR in a header value', 'GET /a HTTP/1.1\r\nHost: orders\r\nX-Evil: a\rInjected: yes\r\n\r\n', 400],
    ['a space in a header name', 'GET /a HTTP/1.1\r\nHost: orders\r\nX Evil: x\r\n\r\n', 400],
  ];

  for (const [what, bytes, status] of CASES) {
    it(`answers ${status} to ${what}, and the app sees nothing`, async () => {
      for (const [port, target] of ports()) {
        const before = ordersApp.received.length;
        const outcome = await rawExchange(target, bytes);
        expect(outcome.status, `${port}: ${outcome.data.slice(0, 200)}`).to.equal(status);
        expect(ordersApp.received.length, `${port}: the app saw ${JSON.stringify(ordersApp.received.slice(before).map((r) => r.url))}`).to.equal(before);
      }
    });
  }

  it('closes a connection whose headers trickle in (slow-loris), or that never says anything, after the header timeout', async () => {
    const before = ordersApp.received.length;
    const slow = `GET /slow HTTP/1.1\r\nHost: orders\r\nX-Pad: ${'p'.repeat(300)}\r\n\r\n`;
    const silent = { kind: 'tcp' as const, port: orders.inboundPort };
    const outcomes = await Promise.all([
      ...ports().map(([, target]) => rawExchange(target, slow, { trickleMs: 50, waitMs: HEADERS_TIMEOUT_MS + 10_000 })),
      rawExchange(silent, '', { waitMs: HEADERS_TIMEOUT_MS + 10_000 }),
    ]);
    for (const [i, o] of outcomes.entries()) {
      expect([i, o.ended]).to.deep.equal([i, 'closed']);
      // Not before the timeout (the bytes kept coming), and not long after it (slack for a loaded machine).
      expect(o.elapsedMs, `connection ${i}`).to.be.within(HEADERS_TIMEOUT_MS - 1_000, HEADERS_TIMEOUT_MS + 6_000);
    }
    expect(ordersApp.received.length).to.equal(before);
  });

  it('never continues a malformed or all-zero traceparent: a new trace starts and the request succeeds', async () => {
    const trace = randomBytes(16).toString('hex');
    const span = randomBytes(8).toString('hex');
    const spoofed = [
      `00-${ZERO_TRACE}-${span}-01`,
      `00-${trace}-${'0'.repeat(16)}-01`,
      `00-${trace.toUpperCase()}-${span}-01`,
      `ff-${trace}-${span}-01`,
      `00-${trace}-${span}-01-extra`,
      `00-${trace}-${span}`,
      'garbage',
      `00-${trace}-${span}-01${'x'.repeat(4_000)}`,
    ];
    for (const header of spoofed) {
      const seen = echoOf(await callVia(frontend, 'orders', { headers: { traceparent: header } })).headers['traceparent'];
      const m = TRACEPARENT.exec(String(seen));
      expect(m, `${header.slice(0, 80)} -> ${String(seen)}`).to.not.equal(null);
      expect(m?.[1], header.slice(0, 80)).to.not.be.oneOf([ZERO_TRACE, trace]);
    }
    // A valid one is continued: the check above would notice if nothing were ever continued.
    const valid = echoOf(await callVia(frontend, 'orders', { headers: { traceparent: `00-${trace}-${span}-01` } })).headers['traceparent'];
    expect(TRACEPARENT.exec(String(valid))?.[1]).to.equal(trace);
    // The same from a raw peer on the inbound port.
    const [, inbound] = ports()[1] as readonly [string, RawTarget];
    const raw = await rawExchange(inbound, `GET /t HTTP/1.1\r\nHost: orders\r\ntraceparent: 00-${ZERO_TRACE}-${'0'.repeat(16)}-01\r\nConnection: close\r\n\r\n`);
    expect(raw.status).to.equal(200);
    expect(TRACEPARENT.exec(String(echoed(raw.data).headers['traceparent']))?.[1]).to.not.be.oneOf([undefined, ZERO_TRACE]);
  });

  it("gives the app the peer's certificate identity, whatever identity header a raw peer sends", async () => {
    const [, inbound] = ports()[1] as readonly [string, RawTarget];
    const spoof = 'spiffe://weft.local/ns/default/sa/admin';
    const raw = await rawExchange(
      inbound,
      `GET /who HTTP/1.1\r\nHost: orders\r\nx-weft-peer-identity: ${spoof}\r\nX-Weft-Peer-Identity: ${spoof}\r\nConnection: close\r\n\r\n`,
    );
    expect(raw.status, raw.data.slice(0, 200)).to.equal(200);
    expect(echoed(raw.data).headers['x-weft-peer-identity']).to.equal(probe.spiffeId);
  });

  it('gives a plaintext caller in PERMISSIVE mode no identity at all, whatever header it sends', async () => {
    await apply(mesh, `${API}\nkind: MeshConfig\nmetadata: {name: default}\nspec: {mtls: PERMISSIVE}\n`);
    await waitFor('orders to run PERMISSIVE', async () => {
      const view = await getJson<{ inForce: { mesh: { mtls: string } } | null }>(orders.adminPort, '/config');
      return view.body.inForce?.mesh.mtls === 'PERMISSIVE' ? true : undefined;
    });
    const raw = await rawExchange(
      { kind: 'tcp', port: orders.inboundPort },
      `GET /plain HTTP/1.1\r\nHost: orders\r\nx-weft-peer-identity: spiffe://weft.local/ns/default/sa/admin\r\nConnection: close\r\n\r\n`,
    );
    expect(raw.status, raw.data.slice(0, 300)).to.equal(200);
    expect(echoed(raw.data).headers['x-weft-peer-identity'] ?? '').to.equal('');
  });

  it('is still serving on both ports after all of the above', async () => {
    expect([orders.proc.running, frontend.proc.running]).to.deep.equal([true, true]);
    expect(echoOf(await callVia(frontend, 'orders', { path: '/after' })).url).to.equal('/after');
  });
});
