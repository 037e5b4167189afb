import { createServer, connect, type Socket } from 'node:net';
import { expect } from 'chai';
import { loadOriginalDstReader, originalDstReader, redirectedDst } from '../../src/capture/original-dst';

/** A connection accepted on loopback (nothing redirected it), handed to `use`. */
async function withAccepted<T>(use: (socket: Socket) => T): Promise<T> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
  const client = connect((server.address() as { port: number }).port, '127.0.0.1');
  const socket = await accepted;
  try {
    return use(socket);
  } finally {
    client.destroy();
    socket.destroy();
    server.close();
  }
}

describe('original destination (SO_ORIGINAL_DST)', () => {
  it('is read by the addon built at npm ci, and a connection nothing redirected is an explicit one', async () => {
    const reader = originalDstReader();
    expect(reader.available, reader.reason).to.equal(true);
    expect(await withAccepted((socket) => redirectedDst(reader, socket))).to.equal(undefined);
  });

  it('without the addon: unavailable, with a reason that says how to build it, and every connection explicit', async () => {
    const reader = loadOriginalDstReader('/nonexistent/weft_original_dst.node');
    expect(reader.available).to.equal(false);
    expect(reader.reason).to.match(/not built.*npm ci/);
    expect(await withAccepted((socket) => redirectedDst(reader, socket))).to.equal(undefined);
  });
});
