import { randomBytes } from 'node:crypto';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { expect } from 'chai';
import { recordingLogger, waitFor } from '@weft/harness';
import type { ProxyListener } from '../../src/listener';
import { startTcpForward } from '../../src/outbound/tcp-forward';
import { resource, TestMesh, type Caller } from '../scenarios/mesh-fixture';

/** A raw TCP echo app that counts the connections it accepted. */
async function startEcho(): Promise<{ server: Server; port: number; accepted: () => number }> {
  let accepted = 0;
  // Half-open: echo everything, then end once the client has ended its side.
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    accepted += 1;
    socket.on('error', () => undefined);
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, accepted: () => accepted };
}

/** Connects, sends `data`, half-closes, and collects everything until the other side ends or closes. */
function exchange(port: number, data: Buffer): Promise<{ received: Buffer; ended: boolean }> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    const chunks: Buffer[] = [];
    let ended = false;
    socket.on('connect', () => socket.end(data));
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('end', () => (ended = true));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve({ received: Buffer.concat(chunks), ended }));
  });
}

function waitForMetric(caller: Caller, pattern: RegExp): Promise<string> {
  return waitFor(`a metric line matching ${pattern}`, () => {
    const metrics = caller.telemetry.renderMetrics();
    const line = metrics.split('\n').find((l) => pattern.test(l));
    if (!line) throw new Error(`none yet in:\n${metrics}`);
    return line;
  }, 2_000);
}

describe('protocols: plain TCP through two sidecars (--tcp-forward, --app-protocol tcp)', function () {
  this.timeout(20_000);
  let mesh: TestMesh;
  let caller: Caller;
  let dbSidecar: Awaited<ReturnType<TestMesh['addSidecar']>>;
  let db: Awaited<ReturnType<typeof startEcho>>;
  let impostorApp: Awaited<ReturnType<typeof startEcho>>;
  const forwards: ProxyListener[] = [];
  // Each sidecar logs to a logger of its own (refusals are the point here, and would clutter the
  // output), so the tests can also see what each one said and where.
  const callerLog = recordingLogger();
  const dbLog = recordingLogger();

  const forward = async (service: string): Promise<number> => {
    const listener = await startTcpForward({ host: '127.0.0.1', forward: { localPort: 0, service }, self: caller.self, identity: caller.identity, config: caller.config, telemetry: caller.telemetry });
    forwards.push(listener);
    return listener.port;
  };

  before(async () => {
    mesh = new TestMesh();
    [db, impostorApp] = await Promise.all([startEcho(), startEcho()]);
    dbSidecar = await mesh.addSidecar('db', db.port, { appProtocol: 'tcp', telemetry: { log: dbLog } });
    const impostor = await mesh.addSidecar('impostor', impostorApp.port, { appProtocol: 'tcp', telemetry: { log: recordingLogger() } });
    // The registry claims the impostor's sidecar serves "vault": its certificate says otherwise.
    mesh.registerEndpoint('vault', impostor.address);
    await mesh.addInstance('web', (_req, res) => res.end('http app'));
    caller = await mesh.addCaller('frontend', { telemetry: { log: callerLog } });
    mesh.push();
  });
  after(async () => {
    await Promise.all(forwards.map((f) => f.close(0)));
    await mesh?.close();
    await Promise.all([db, impostorApp].map((e) => e && new Promise((r) => e.server.close(r))));
  });

  it('relays bytes both ways, half-close included, and counts connections and bytes', async () => {
    const port = await forward('db');
    const payload = randomBytes(1024 * 1024);
    const { received, ended } = await exchange(port, payload);
    expect(received.equals(payload), `echoed ${received.length} of ${payload.length} bytes intact`).to.equal(true);
    expect(ended, 'the app ended its side after the echo, and that end came through').to.equal(true);
    const labels = 'direction="outbound",source="frontend.default",destination="db.default"';
    expect(await waitForMetric(caller, new RegExp(`^weft_tcp_received_bytes_total\\{${labels}\\}`))).to.match(/ 1048576$/);
    expect(await waitForMetric(caller, new RegExp(`^weft_tcp_sent_bytes_total\\{${labels}\\}`))).to.match(/ 1048576$/);
    expect(await waitForMetric(caller, new RegExp(`^weft_tcp_connections_closed_total\\{${labels},error=""\\}`))).to.match(/ 1$/);
  });

  it('reports a connection held open as a tunnel on both sidecars, whose byte counts move only while it carries data', async () => {
    // What the idle memory release reads: a quiet database connection must not look like traffic.
    const port = await forward('db');
    const listener = forwards.at(-1) as ProxyListener;
    const socket = connect({ port, host: '127.0.0.1' });
    socket.on('error', () => undefined);
    const echoed: Buffer[] = [];
    socket.on('data', (c: Buffer) => echoed.push(c));
    try {
      socket.write('ping');
      await waitFor('the echo', () => Buffer.concat(echoed).toString() === 'ping');
      const sides = (): Array<{ open: number; bytes: number } | undefined> => [listener.tunnels?.(), dbSidecar.inbound.tunnels?.()];
      await waitFor('both sides count the tunnel', () => sides().every((t) => t !== undefined && t.open >= 1 && t.bytes >= 8));
      const quiet = sides();
      await new Promise((r) => setTimeout(r, 200));
      expect(sides(), 'nothing carried: nothing moved').to.deep.equal(quiet);
      socket.write('pong');
      await waitFor('the second echo', () => Buffer.concat(echoed).toString() === 'pingpong');
      const after = sides();
      for (const [i, t] of after.entries()) expect(t?.bytes, `side ${i}`).to.be.above(quiet[i]?.bytes ?? Infinity);
    } finally {
      socket.destroy();
    }
  });

  it('refuses a peer whose certificate is not the service\'s SPIFFE ID: not a byte reaches it', async () => {
    const port = await forward('vault');
    const { received } = await exchange(port, Buffer.from('secret'));
    expect(received.length).to.equal(0);
    expect(impostorApp.accepted()).to.equal(0);
    await waitForMetric(caller, /^weft_tcp_connections_closed_total\{direction="outbound",source="frontend.default",destination="vault.default",error="WEFT_ERR_PEER_IDENTITY"\} 1$/);
    // The tcp-forward listener logs through the sidecar's logger (a child of it), not one of its own.
    const line = callerLog.lines.find((l) => l.msg === 'TCP connection not forwarded' && l.fields['service'] === 'vault');
    expect(line?.fields).to.include({ component: 'tcp-forward', localPort: 0, code: 'WEFT_ERR_PEER_IDENTITY' });
  });

  it('cannot tunnel raw TCP into an HTTP app (its inbound offers no weft-tcp)', async () => {
    const port = await forward('web');
    const { received } = await exchange(port, Buffer.from('GET / HTTP/1.1\r\nhost: web\r\n\r\n'));
    expect(received.length).to.equal(0);
    await waitForMetric(caller, /^weft_tcp_connections_closed_total\{[^}]*destination="web.default",error="WEFT_ERR_CONNECT"\} 1$/);
  });

  it('applies AuthorizationPolicy to TCP connections: a DENY naming the caller closes it before the app', async () => {
    const before = db.accepted();
    mesh.setResources([resource('AuthorizationPolicy', 'db-deny', { service: 'db', action: 'DENY', rules: [{ from: [{ service: 'frontend' }] }] })]);
    mesh.push();
    const port = await forward('db');
    try {
      const { received } = await exchange(port, Buffer.from('hello'));
      expect(received.length).to.equal(0);
      expect(db.accepted()).to.equal(before);
      expect(dbSidecar.telemetry.renderMetrics()).to.contain(
        'weft_requests_denied_total{source="frontend.default",destination="db.default",policy="default/db-deny",cause="deny-rule"} 1',
      );
      // The inbound listener logs the refusal through the sidecar's logger.
      expect(dbLog.lines.some((l) => l.level === 'warn' && l.msg === 'TCP connection refused' && l.fields['component'] === 'inbound')).to.equal(true);
    } finally {
      mesh.setResources([]);
      mesh.push();
    }
    expect((await exchange(port, Buffer.from('hello'))).received.toString()).to.equal('hello');
  });
});
