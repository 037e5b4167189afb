import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { expect } from 'chai';
import { resource, TestMesh, type Caller, type Instance } from '../scenarios/mesh-fixture';

const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** RFC 6455 4.2.2: the accept value proves the server read this handshake's key. */
function acceptFor(key: string): string {
  return createHash('sha1').update(key + WS_GUID).digest('base64');
}

interface Opened {
  readonly socket: Socket;
  readonly status: number;
  readonly headers: Record<string, string>;
  /** Bytes that came after the response head in the same read. */
  readonly rest: Buffer;
}

/** Sends a WebSocket handshake (plus `early` bytes in the same write) and reads the response head. */
function openWebSocket(port: number, host: string, key: string, early = ''): Promise<Opened> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let buffered = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      buffered = Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      const [statusLine = '', ...lines] = buffered.subarray(0, end).toString('latin1').split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of lines) headers[line.slice(0, line.indexOf(':')).toLowerCase()] = line.slice(line.indexOf(':') + 1).trim();
      resolve({ socket, status: Number(statusLine.split(' ')[1]), headers, rest: buffered.subarray(end + 4) });
    };
    socket.on('data', onData);
    socket.on('error', reject);
    socket.write(
      `GET /chat?room=1 HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n${early}`,
    );
  });
}

function readAtLeast(socket: Socket, already: Buffer, bytes: number): Promise<Buffer> {
  return new Promise((resolve) => {
    let got = already;
    if (got.length >= bytes) return resolve(got);
    const onData = (c: Buffer): void => {
      got = Buffer.concat([got, c]);
      if (got.length >= bytes) {
        socket.off('data', onData);
        resolve(got);
      }
    };
    socket.on('data', onData);
  });
}

describe('protocols: WebSocket (HTTP/1.1 Upgrade) through two sidecars', function () {
  this.timeout(20_000);
  let mesh: TestMesh;
  let caller: Caller;
  let chat: Instance;
  const seen: { url: string; identity: string }[] = [];
  let appClosed = 0;

  before(async () => {
    mesh = new TestMesh();
    chat = await mesh.addInstance('chat', (_req, res) => res.end('not an upgrade'));
    chat.app.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      seen.push({ url: req.url ?? '', identity: String(req.headers['x-weft-peer-identity']) });
      socket.write(
        `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptFor(String(req.headers['sec-websocket-key']))}\r\n\r\n`,
      );
      if (head.length > 0) socket.write(head);
      socket.on('data', (d: Buffer) => socket.write(d)); // echo, frames as they come
      socket.on('end', () => socket.end());
      socket.on('close', () => (appClosed += 1));
    });
    caller = await mesh.addCaller('frontend');
    mesh.push();
  });
  after(() => mesh?.close());

  it('completes the handshake end to end and echoes bytes both ways until the client closes', async () => {
    const key = randomBytes(16).toString('base64');
    const opened = await openWebSocket(caller.outbound.port, 'chat', key, 'early!');
    expect(opened.status).to.equal(101);
    expect(opened.headers['upgrade']).to.equal('websocket');
    expect(opened.headers['sec-websocket-accept']).to.equal(acceptFor(key));
    expect(seen.at(-1)).to.deep.equal({ url: '/chat?room=1', identity: 'spiffe://weft.local/ns/default/sa/frontend' });
    // Bytes sent with the request head travel once the 101 is in (were the upgrade refused, a
    // server would read them as a next request); they come back first, then what follows, in order.
    const frame = randomBytes(64 * 1024);
    opened.socket.write(frame);
    const echoed = await readAtLeast(opened.socket, opened.rest, 6 + frame.length);
    expect(echoed.subarray(0, 6).toString()).to.equal('early!');
    expect(echoed.subarray(6).equals(frame)).to.equal(true);
    const closedBefore = appClosed;
    await new Promise<void>((resolve) => {
      opened.socket.once('close', () => resolve());
      opened.socket.end();
    });
    for (let i = 0; i < 50 && appClosed === closedBefore; i++) await new Promise((r) => setTimeout(r, 20));
    expect(appClosed, 'the close reached the app').to.equal(closedBefore + 1);
  });

  it('runs upgrades through authorization: a DENY answers 403 and the app never sees the handshake', async () => {
    const before = seen.length;
    mesh.setResources([resource('AuthorizationPolicy', 'chat-deny', { service: 'chat', action: 'DENY', rules: [{ to: [{ paths: ['/chat'] }] }] })]);
    mesh.push();
    try {
      const opened = await openWebSocket(caller.outbound.port, 'chat', randomBytes(16).toString('base64'));
      expect(opened.status).to.equal(403);
      expect(opened.headers['x-weft-error']).to.equal('WEFT_ERR_AUTHZ_DENIED');
      opened.socket.destroy();
      expect(seen.length).to.equal(before);
    } finally {
      mesh.setResources([]);
      mesh.push();
    }
  });

  it("answers an upgrade to a service the mesh doesn't know with a 503 that says so, then closes", async () => {
    const opened = await openWebSocket(caller.outbound.port, 'nowhere', randomBytes(16).toString('base64'));
    expect(opened.status).to.equal(503);
    expect(opened.headers['x-weft-error']).to.equal('WEFT_ERR_NO_ENDPOINTS');
    const body = await new Promise<string>((resolve) => {
      let text = opened.rest.toString();
      opened.socket.on('data', (c: Buffer) => (text += c.toString()));
      opened.socket.on('close', () => resolve(text));
    });
    expect(body).to.contain('"nowhere" has no endpoints in the mesh');
  });
});
