import { expect } from 'chai';
import * as net from 'node:net';
import { LISTENER_LIMITS, MuxListener } from '../../src/listen/mux-listener';

/** A MuxListener whose accept hands connections to nobody: they stay where a stuck TLS handshake or sniff leaves them. */
async function stuckListener(): Promise<{ listener: MuxListener; accepted: Promise<net.Socket> }> {
  let onAccept!: (s: net.Socket) => void;
  const accepted = new Promise<net.Socket>((resolve) => (onAccept = resolve));
  const listener = new MuxListener({
    limits: LISTENER_LIMITS,
    handler: () => undefined,
    // Reads the first bytes, then waits, as sniffing does before it hands a connection on.
    accept: (socket) =>
      void socket.once('data', () => {
        socket.pause();
        onAccept(socket);
      }),
    onClosed: async () => undefined,
    onTimeout: () => undefined,
  });
  return { listener: await listener.listen(0, '127.0.0.1'), accepted };
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => resolve(socket));
    socket.on('error', reject);
  });
}

describe('MuxListener drain', function () {
  // The drain below is given a minute: finishing within mocha's timeout means it did not wait for the deadline.
  this.timeout(10_000);

  it('closes a connection that spoke and then hung up half-way (a half-open TLS handshake) without waiting for the deadline', async () => {
    const { listener, accepted } = await stuckListener();
    const client = await connect(listener.port);
    client.on('error', () => undefined);
    client.end(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3])); // the start of a ClientHello, then FIN
    const server = await accepted;
    expect(server.bytesRead).to.be.greaterThan(0);
    expect(listener.inFlight()).to.equal(0);
    await listener.close(60_000);
    expect(server.destroyed).to.equal(true);
  });

  it('counts what it served, for a draining sidecar to watch', async () => {
    const { listener } = await stuckListener();
    expect(listener.served()).to.equal(0);
    const quiet = { bytesRead: 10, bytesWritten: 20 };
    const moving = { bytesRead: 1, bytesWritten: 2 };
    listener.track(Promise.resolve(), quiet);
    const later = new Promise((r) => setTimeout(r, 10));
    listener.track(later, moving);
    expect(listener.served()).to.equal(2);
    expect(listener.inFlight()).to.equal(2);
    expect(listener.tunnels()).to.deep.equal({ open: 2, bytes: 33 });
    moving.bytesRead = 101;
    expect(listener.tunnels(), 'read when asked').to.deep.equal({ open: 2, bytes: 133 });
    await later;
    await new Promise((r) => setImmediate(r));
    expect(listener.tunnels(), 'settled tunnels are gone').to.deep.equal({ open: 0, bytes: 0 });
    await listener.close(1_000);
  });
});
