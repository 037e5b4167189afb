import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';
import { expect } from 'chai';
import { LISTENER_LIMITS } from '../../src/listen/mux-listener';
import type { ProxyListener } from '../../src/listener';
import { startOutbound } from '../../src/outbound/server';
import { TestMesh, type Caller, type Instance } from '../scenarios/mesh-fixture';

/** What a raw client got: everything the server wrote, and how long until it closed the connection. */
interface RawResult {
  readonly text: string;
  readonly closedAfterMs: number;
}

/** Writes `first`, then `trickle` every `everyMs` until the server closes the connection. */
function raw(port: number, first: string, trickle?: { text: string; everyMs: number }): Promise<RawResult> {
  return new Promise((resolve) => {
    const startedAt = performance.now();
    const socket = connect(port, '127.0.0.1');
    let text = '';
    let timer: NodeJS.Timeout | undefined;
    socket.on('connect', () => {
      if (first) socket.write(first);
      if (trickle) timer = setInterval(() => socket.writable && socket.write(trickle.text), trickle.everyMs);
    });
    socket.on('data', (c: Buffer) => (text += c.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearInterval(timer);
      resolve({ text, closedAfterMs: performance.now() - startedAt });
    });
  });
}

const statusOf = (r: RawResult): number => Number(/^HTTP\/1\.1 (\d{3})/.exec(r.text)?.[1] ?? 0);

describe('protocols: listener hardening (slow-loris, oversized and malformed requests)', function () {
  this.timeout(20_000);
  let mesh: TestMesh;
  let caller: Caller;
  let api: Instance;
  let outbound: ProxyListener;

  before(async () => {
    mesh = new TestMesh();
    api = await mesh.addInstance('api', (_req, res) => res.end('ok'));
    caller = await mesh.addCaller('frontend');
    mesh.push();
    // The caller's parts behind an outbound listener with short limits, so the suite stays fast.
    outbound = await startOutbound({
      host: '127.0.0.1', port: 0, self: caller.self, identity: caller.identity, config: caller.config, telemetry: caller.telemetry,
      limits: { ...LISTENER_LIMITS, headersTimeoutMs: 300, maxHeaderBytes: 8 * 1024 },
    });
  });
  after(async () => {
    await outbound?.close(0);
    await mesh?.close();
  });

  it('cuts off a client that trickles its headers (408), however steadily it sends', async () => {
    const res = await raw(outbound.port, 'GET / HTTP/1.1\r\nHost: api\r\n', { text: 'X-Slow: 1\r\n', everyMs: 50 });
    expect(statusOf(res)).to.equal(408);
    expect(res.closedAfterMs).to.be.within(250, 1_500);
  });

  it('closes a connection that never says anything', async () => {
    const res = await raw(outbound.port, '');
    expect(res.text).to.equal('');
    expect(res.closedAfterMs).to.be.within(250, 1_500);
  });

  it('keeps an idle keep-alive connection for 65 s and says so, so peers reuse it instead of a new TLS handshake per burst', async () => {
    const res = await raw(outbound.port, 'GET / HTTP/1.1\r\nHost: api\r\n\r\nGET / HTTP/1.1\r\nHost: api\r\nConnection: close\r\n\r\n');
    expect(statusOf(res)).to.equal(200);
    expect(res.text.toLowerCase()).to.include('keep-alive: timeout=65');
  });

  it('answers 431 to headers over the size limit', async () => {
    const res = await raw(outbound.port, `GET / HTTP/1.1\r\nHost: api\r\nX-Big: ${'a'.repeat(16 * 1024)}\r\n\r\n`);
    expect(statusOf(res)).to.equal(431);
  });

  it('answers 400 to conflicting Content-Length and Transfer-Encoding (request smuggling), without forwarding it', async () => {
    const res = await raw(
      outbound.port,
      'POST / HTTP/1.1\r\nHost: api\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: api\r\n\r\n',
    );
    expect(statusOf(res)).to.equal(400);
    expect(res.text).to.contain('x-weft-error: WEFT_ERR_BAD_REQUEST');
    expect(res.text).to.not.contain('200 OK');
  });

  it('answers 400 to bytes that are not HTTP, and keeps serving everyone else', async () => {
    expect(statusOf(await raw(outbound.port, 'HELLO THERE\r\n\r\n'))).to.equal(400);
    expect(statusOf(await raw(outbound.port, 'GET / HTTP/1.1\r\nHost: api\r\nBad Header\r\n\r\n'))).to.equal(400);
    const ok = await raw(outbound.port, 'GET / HTTP/1.1\r\nHost: api\r\nConnection: close\r\n\r\n');
    expect(statusOf(ok)).to.equal(200);
  });

  it('limits header size on the inbound port too (plaintext, PERMISSIVE)', async () => {
    mesh.setMeshConfig({ mtls: 'PERMISSIVE' });
    mesh.push();
    try {
      const res = await raw(api.inbound.port, `GET / HTTP/1.1\r\nHost: api\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`);
      expect(statusOf(res)).to.equal(431);
    } finally {
      mesh.setMeshConfig({});
      mesh.push();
    }
  });
});
