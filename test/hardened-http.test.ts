/**
 * Hardened edges of the data path: malformed, smuggled, oversized and trickled HTTP/1.1 on both
 * sidecar ports (outbound: the app's side, plain TCP; inbound: the mesh's side, mTLS with a real
 * workload certificate), header limits and stalled bodies on HTTP/2 too, and headers spoofed from
 * outside the mesh. Whatever is sent, the app behind the sidecar sees no request it should not,
 * and both sidecars keep serving.
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { httpGetText, Mesh, parsePrometheusText, readOperatorConfig, sumSamples, waitFor, type ClientCredential, type Sidecar } from '@weft/harness';
import type { OperatorConfig } from '@weft/api';
import { workloadCredential } from './control-plane-client';
import { API, apply, callVia, echoOf, getJson, startEchoApp, type EchoApp, type EchoReply } from './fixtures';
import { bodyOf, h2Exchange, rawExchange, type H2Outcome, type RawOutcome, type RawTarget } from './raw-http';

/** The listeners' header limits (sidecar `listen/mux-listener.ts`, LISTENER_LIMITS). */
const HEADERS_TIMEOUT_MS = 10_000;
const MAX_HEADER_BYTES = 32 * 1024;
const MAX_HEADER_COUNT = 500;
/**
 * Short for the suite (`--body-idle-timeout`; the default is 30 s), so a stalled body is cut
 * quickly; longer on orders, so that a body stalled through frontend is cut by frontend's outbound
 * (the hop stalls with it) and each side counts only its own.
 */
const BODY_IDLE_MS = { outbound: 1_500, inbound: 3_000 } as const;
/** `n` short header fields (`h0: 0` ...), so that their count and not their bytes is what is over a limit. */
const manyHeaders = (n: number): Record<string, string> => Object.fromEntries(Array.from({ length: n }, (_, i) => [`h${i.toString(36)}`, String(i)]));
const asLines = (headers: Record<string, string>): string => Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
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
  let probe: ClientCredential & { spiffeId: string };

  /** Both ports, each reaching the orders app: through frontend's outbound, or straight to orders' inbound. */
  const ports = (): readonly (readonly [string, RawTarget])[] => [
    ['outbound', { kind: 'tcp', port: frontend.outboundPort }],
    ['inbound', { kind: 'tls', port: orders.inboundPort, caPem: op.caPem, certificatePem: probe.certificatePem, privateKeyPem: probe.privateKeyPem }],
  ];
  /** `weft_downstream_timeouts_total` of one sidecar's side, for one reason. */
  const timeouts = async (sidecar: Sidecar, direction: string, reason: string): Promise<number> =>
    sumSamples(parsePrometheusText(await httpGetText(sidecar.adminPort, '/metrics')), 'weft_downstream_timeouts_total', { direction, reason });
  /** What the orders app answered about a raw request: the echo body of the first response. */
  const echoed = (data: string): EchoReply => JSON.parse(bodyOf(data)) as EchoReply;

  before(async () => {
    const cp = await mesh.startControlPlane();
    op = readOperatorConfig(cp.configPath);
    [ordersApp, frontendApp] = await Promise.all([startEchoApp('orders'), startEchoApp('frontend')]);
    const idle = (ms: number): string[] => ['--body-idle-timeout', `${ms}ms`];
    [orders, frontend] = await Promise.all([
      // The echo app speaks HTTP/1.1 only: HTTP/2 callers reach it as HTTP/1.1.
      mesh.startSidecar({
        service: 'orders', appPort: ordersApp.port, token: await mesh.createToken('orders'), controlPlane: cp.endpoint,
        extraArgs: [...idle(BODY_IDLE_MS.inbound), '--app-protocol', 'http1'],
      }),
      mesh.startSidecar({ service: 'frontend', appPort: frontendApp.port, token: await mesh.createToken('frontend'), controlPlane: cp.endpoint, extraArgs: idle(BODY_IDLE_MS.outbound) }),
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
    ['two Host headers (RFC 9112 3.2)', 'GET /a HTTP/1.1\r\nHost: orders\r\nHost: payments\r\n\r\n', 400],
    ['two Host headers on an Upgrade', 'GET /ws HTTP/1.1\r\nHost: orders\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nhost: orders\r\n\r\n', 400],
    // Under the byte limit (about 24 KiB), over the count: Node would keep 2,000 and drop the rest.
    ['3,000 header fields', `GET /many HTTP/1.1\r\nHost: orders\r\n${asLines(manyHeaders(3_000))}\r\n`, 431],
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
    // The two that trickled are counted, one on each side (the silent one never got to HTTP).
    expect([await timeouts(frontend, 'outbound', 'headers'), await timeouts(orders, 'inbound', 'headers')]).to.deep.equal([1, 1]);
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
  it('keeps routing an absolute-form target whose single Host names another service: the target wins (RFC 9112 3.2.2)', async () => {
    const raw = await rawExchange({ kind: 'tcp', port: frontend.outboundPort }, 'GET http://orders/absolute HTTP/1.1\r\nHost: payments\r\nConnection: close\r\n\r\n');
    expect(raw.status, raw.data.slice(0, 200)).to.equal(200);
    expect(echoed(raw.data)).to.include({ app: 'orders', url: '/absolute' });
  });

  it('answers 431 over HTTP/2 too, for too many header fields or too many header bytes, and the app sees nothing', async () => {
    const big = { 'x-big': 'a'.repeat(MAX_HEADER_BYTES + 1024) };
    for (const [port, target] of ports()) {
      for (const [what, extra] of [['3,000 fields', manyHeaders(3_000)], ['40 KiB in one field', big]] as const) {
        const before = ordersApp.received.length;
        const outcome = await h2Exchange(target, { ':path': '/many', ':authority': 'orders', ...extra });
        expect([port, what, outcome.status, outcome.headers['x-weft-error']], outcome.body).to.deep.equal([port, what, 431, 'WEFT_ERR_BAD_REQUEST']);
        expect(ordersApp.received.length, `${port} ${what}`).to.equal(before);
      }
    }
  });

  it(`carries ${MAX_HEADER_COUNT - 100} header fields to the app intact, from HTTP/1.1 and HTTP/2 callers on both ports`, async () => {
    const sent = manyHeaders(MAX_HEADER_COUNT - 100);
    const intact = (headers: Record<string, unknown>): number => Object.entries(sent).filter(([k, v]) => headers[k] === v).length;
    const n = Object.keys(sent).length;
    expect(intact(echoOf(await callVia(frontend, 'orders', { path: '/h1-many', headers: sent })).headers), 'HTTP/1.1 through outbound').to.equal(n);
    for (const [port, target] of ports()) {
      const raw = await rawExchange(target, `GET /raw-many HTTP/1.1\r\nHost: orders\r\n${asLines(sent)}Connection: close\r\n\r\n`);
      expect(raw.status, `${port}: ${raw.data.slice(0, 200)}`).to.equal(200);
      expect(intact(echoed(raw.data).headers), `HTTP/1.1 on ${port}`).to.equal(n);
      const h2 = await h2Exchange(target, { ':path': '/h2-many', ':authority': 'orders', ...sent });
      expect(h2.status, `${port}: ${h2.body.slice(0, 200)}`).to.equal(200);
      expect(intact((JSON.parse(h2.body) as EchoReply).headers), `HTTP/2 on ${port}`).to.equal(n);
    }
  });

  it('answers 408 and closes when a request body stops arriving, on both ports, and counts it', async () => {
    const before = { outbound: await timeouts(frontend, 'outbound', 'body_idle'), inbound: await timeouts(orders, 'inbound', 'body_idle') };
    const received = ordersApp.received.length;
    const head = 'POST /upload HTTP/1.1\r\nHost: orders\r\nContent-Length: 100000\r\n\r\n';
    const stalled = `${head}hello`; // five bytes, 300 ms apart, then nothing
    const outcomes = await Promise.all([
      ...ports().map(([, target]) => rawExchange(target, stalled, { trickleAfter: head.length, trickleMs: 300, waitMs: 20_000 })),
      ...ports().map(([, target]) =>
        h2Exchange(target, { ':method': 'POST', ':path': '/upload', ':authority': 'orders', 'content-length': '100000' }, { body: ['he', 'llo'], everyMs: 300, stall: true, waitMs: 20_000 }),
      ),
    ]);
    const [h1Out, h1In, h2Out, h2In] = outcomes as [RawOutcome, RawOutcome, H2Outcome, H2Outcome];
    for (const [port, o] of [['outbound', h1Out], ['inbound', h1In]] as const) {
      expect([port, o.status, o.ended], o.data.slice(0, 300)).to.deep.equal([port, 408, 'closed']);
      expect(o.data, port).to.match(/\r\nx-weft-error: WEFT_ERR_BODY_TIMEOUT\r\n/i);
      // Not before the body went idle for the timeout (its five bytes took 1.5 s).
      expect(o.elapsedMs, port).to.be.at.least(1_500 + BODY_IDLE_MS[port] - 100);
    }
    for (const [port, o] of [['outbound', h2Out], ['inbound', h2In]] as const) {
      expect([port, o.status, o.headers['x-weft-error']], o.body).to.deep.equal([port, 408, 'WEFT_ERR_BODY_TIMEOUT']);
    }
    expect(ordersApp.received.length, 'no stalled upload reached its end at the app').to.equal(received);
    expect((await timeouts(frontend, 'outbound', 'body_idle')) - before.outbound, 'cut by frontend').to.equal(2);
    expect((await timeouts(orders, 'inbound', 'body_idle')) - before.inbound, 'cut by orders').to.equal(2);
  });

  it('lets a slow upload through as long as it keeps moving, however long it takes in all', async () => {
    const body = 'x'.repeat(16); // one byte every 300 ms: 4.8 s in all, longer than either idle timeout
    const head = `POST /slow-upload HTTP/1.1\r\nHost: orders\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`;
    const outcomes = await Promise.all([
      ...ports().map(([, target]) => rawExchange(target, `${head}${body}`, { trickleAfter: head.length, trickleMs: 300, waitMs: 20_000 })),
      ...ports().map(([, target]) =>
        h2Exchange(target, { ':method': 'POST', ':path': '/slow-upload', ':authority': 'orders', 'content-length': String(body.length) }, { body: [...body], everyMs: 300, waitMs: 20_000 }),
      ),
    ]);
    for (const [i, o] of outcomes.entries()) {
      const reply = 'data' in o ? echoed(o.data) : (JSON.parse(o.body) as EchoReply);
      expect([i, o.status, reply.bodyBytes]).to.deep.equal([i, 200, body.length]);
    }
  });

  it('is still serving on both ports after the limits above', async () => {
    expect([orders.proc.running, frontend.proc.running]).to.deep.equal([true, true]);
    expect(echoOf(await callVia(frontend, 'orders', { path: '/after-limits' })).url).to.equal('/after-limits');
  });
});
