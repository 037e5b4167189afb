import { once } from 'node:events';
import { connect as netConnect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { expect } from 'chai';
import { waitFor } from '@weft/harness';
import { ConnectionReads } from '../../src/http1/connection-reads';

/**
 * ConnectionReads over real TCP connections: every socket reads into one shared buffer, so what
 * a reader is handed must be its own copy, and bytes that come before a reader is attached must
 * not be lost.
 */
describe('http1/connection-reads: one read buffer for the connections a pool opens', function () {
  this.timeout(10_000);
  let server: Server;
  let accepted: Socket[];
  const sockets: Socket[] = [];

  beforeEach(async () => {
    accepted = [];
    server = createServer((socket) => {
      socket.on('error', () => undefined);
      accepted.push(socket);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  afterEach(async () => {
    for (const s of [...sockets, ...accepted]) s.destroy();
    sockets.length = 0;
    await new Promise((resolve) => server.close(resolve));
  });

  const open = async (reads: ConnectionReads): Promise<Socket> => {
    const socket = netConnect({ port: (server.address() as AddressInfo).port, host: '127.0.0.1', onread: reads.onread });
    sockets.push(socket);
    await once(socket, 'connect');
    await waitFor('the server accepted', () => accepted.length === sockets.length);
    return socket;
  };

  it('hands each reader a copy: chunks kept from earlier reads, and from another connection, stay as they were', async () => {
    const [a, b] = [new ConnectionReads(), new ConnectionReads()];
    const got: { a: Buffer[]; b: Buffer[] } = { a: [], b: [] };
    a.attach((chunk) => got.a.push(chunk));
    b.attach((chunk) => got.b.push(chunk));
    await open(a);
    await open(b);
    const [toA, toB] = accepted as [Socket, Socket];
    const sentA: string[] = [];
    const sentB: string[] = [];
    // Separate writes, a turn apart, so that they arrive as separate reads into the same buffer.
    for (let i = 0; i < 20; i++) {
      const textA = `a${i}:`.padEnd(100 + i, String.fromCharCode(65 + (i % 26)));
      const textB = `b${i}:`.padEnd(300 - i, String.fromCharCode(97 + (i % 26)));
      sentA.push(textA);
      sentB.push(textB);
      toA.write(textA);
      toB.write(textB);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    await waitFor('every byte read', () => Buffer.concat(got.a).length === sentA.join('').length && Buffer.concat(got.b).length === sentB.join('').length);
    expect(got.a.length, 'reads on the first connection').to.be.above(1);
    expect(Buffer.concat(got.a).toString('latin1')).to.equal(sentA.join(''));
    expect(Buffer.concat(got.b).toString('latin1')).to.equal(sentB.join(''));
  });

  it('keeps what arrived before a reader was attached, and gives it first, in order', async () => {
    const reads = new ConnectionReads();
    const socket = await open(reads);
    const toUs = accepted[0] as Socket;
    toUs.write('first ');
    await new Promise((resolve) => setTimeout(resolve, 20));
    toUs.write('second ');
    await new Promise((resolve) => setTimeout(resolve, 20));
    const got: string[] = [];
    reads.attach((chunk) => got.push(chunk.toString('latin1')));
    toUs.write('third');
    await waitFor('the third write read', () => got.join('') === 'first second third');
    expect(socket.readable).to.equal(true);
  });

  it('reads nothing while the socket is paused, and everything once resumed; the end is still seen', async () => {
    const reads = new ConnectionReads();
    let read = '';
    reads.attach((chunk) => (read += chunk.toString('latin1')));
    const socket = await open(reads);
    socket.pause();
    const toUs = accepted[0] as Socket;
    toUs.end('while paused');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(read, 'nothing read while paused').to.equal('');
    const ended = once(socket, 'end');
    socket.resume();
    await ended;
    expect(read).to.equal('while paused');
  });
});
