import { connect, createServer, type ClientHttp2Session, type Http2Server } from 'node:http2';
import type { AddressInfo } from 'node:net';
import type { Readable } from 'node:stream';
import { expect } from 'chai';
import type { Downstream } from '../../src/http/downstream';
import { h2Downstream } from '../../src/http/downstream-h2';
import { WHOLE_BODY_MAX_BYTES } from '../../src/http/h2-whole-body';
import { startWhenRead } from '../../src/listen/h2-reset-guard';

type Taken = { readonly body: Readable | Buffer | null; readonly length: number | undefined };

/**
 * h2Downstream over a real HTTP/2 connection, driven as the listener drives it (started once the
 * read that carried the HEADERS is done). The request body is one Buffer when the client ended
 * the stream within that read and the bound, a stream otherwise; a whole (Buffer) answer counts
 * as written before the stream's close is reported.
 */
describe('http/downstream-h2', () => {
  let server: Http2Server;
  let session: ClientHttp2Session;
  let taken: (value: Taken) => void = () => undefined;
  /** How the server answers; by default an empty 200 once the body is taken. */
  let answer: ((d: Downstream) => void) | undefined;

  before(async () => {
    server = createServer();
    server.on('stream', (stream, headers) => {
      startWhenRead(stream, () => {
        const d = h2Downstream(stream, headers);
        if (answer) return answer(d);
        taken(d.takeBody());
        stream.respond({ ':status': 200 }, { endStream: true });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    session = connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    await new Promise((resolve) => session.once('connect', resolve));
  });
  after(async () => {
    session?.close();
    await new Promise((resolve) => server?.close(resolve));
  });

  /** Sends a POST; `send` writes its body. Resolves with what the server's downstream took. */
  function post(send: (stream: NodeJS.WritableStream) => void): Promise<Taken> {
    const result = new Promise<Taken>((resolve) => (taken = resolve));
    const stream = session.request({ ':method': 'POST', ':path': '/', 'content-type': 'application/grpc' });
    stream.on('error', () => undefined);
    stream.resume();
    send(stream);
    return result;
  }

  async function readAll(body: Readable): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of body) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  it('is one Buffer when the body ended with the headers (a unary call)', async () => {
    const sent = Buffer.from('\0\0\0\0\x05hello', 'binary');
    const { body } = await post((s) => s.end(sent));
    expect(Buffer.isBuffer(body), 'a Buffer, no stream').to.equal(true);
    expect(body).to.deep.equal(sent);
  });

  it('streams a body bigger than the bound, every byte of it', async () => {
    const sent = Buffer.alloc(WHOLE_BODY_MAX_BYTES + 1, 7);
    const { body } = await post((s) => s.end(sent));
    expect(body).to.not.equal(null);
    expect(Buffer.isBuffer(body), 'a stream').to.equal(false);
    expect(await readAll(body as Readable)).to.deep.equal(sent);
  });

  it('streams a body the client has not ended yet (a streaming call), starting with what came first', async () => {
    let later: () => void = () => undefined;
    const { body } = await post((s) => {
      s.write('first');
      later = () => s.end('-second');
    });
    expect(Buffer.isBuffer(body), 'a stream').to.equal(false);
    const readable = body as Readable;
    const first = await new Promise<Buffer>((resolve) => readable.once('data', resolve));
    expect(first.toString()).to.equal('first');
    const rest = readAll(readable);
    later();
    expect((await rest).toString()).to.equal('-second');
  });

  it('writes a whole answer with its trailers and reports the exchange complete, not a client that left', async () => {
    const closed = new Promise<{ complete: boolean; err: Error | undefined }>((resolve) => {
      answer = (d) => {
        let err: Error | undefined;
        d.onClose((complete) => resolve({ complete, err }));
        const response = { status: 200, headers: { 'content-type': 'application/grpc' }, body: Buffer.from('whole'), trailers: () => ({ 'grpc-status': '0' }) };
        d.respond({ response }, { dropMeshHeaders: false, extra: {}, grpc: true }, (e) => (err = e));
      };
    });
    try {
      const stream = session.request({ ':method': 'POST', ':path': '/', 'content-type': 'application/grpc' });
      stream.end('x');
      const chunks: Buffer[] = [];
      const trailers = new Promise<Record<string, unknown>>((resolve) => stream.once('trailers', resolve));
      stream.on('data', (c: Buffer) => chunks.push(c));
      await new Promise((resolve) => stream.once('end', resolve));
      expect(Buffer.concat(chunks).toString()).to.equal('whole');
      expect((await trailers)['grpc-status']).to.equal('0');
      expect(await closed).to.deep.equal({ complete: true, err: undefined });
    } finally {
      answer = undefined;
    }
  });
});
