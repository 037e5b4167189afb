import { PassThrough, Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { expect } from 'chai';
import { ReplayableBody } from '../../src/layers/replay-buffer';

const stream = (...parts: string[]): Readable => Readable.from(parts.map((p) => Buffer.from(p)), { objectMode: false });

async function readable(body: Readable | Buffer | null | undefined): Promise<string> {
  if (body === undefined) throw new Error('not replayable');
  if (body === null) return '';
  return Buffer.isBuffer(body) ? body.toString() : text(body);
}

describe('layers/replay-buffer', () => {
  it('hands no body and a buffer to every attempt as they are', () => {
    expect(new ReplayableBody(null, 0, 10).open()).to.equal(null);
    const b = Buffer.from('x');
    const body = new ReplayableBody(b, 1, 10);
    expect(body.open()).to.equal(b);
    expect(body.open()).to.equal(b);
  });

  it('replays a small streamed body in full to a later attempt', async () => {
    const body = new ReplayableBody(stream('ab', 'cd'), undefined, 10);
    expect(await readable(body.open())).to.equal('abcd');
    expect(await readable(body.open())).to.equal('abcd');
    expect(body.replayable).to.equal(true);
  });

  it('streams a body declared larger than the cap once, and refuses a second attempt', async () => {
    const s = stream('0123456789ab');
    const body = new ReplayableBody(s, 12, 10);
    expect(body.open()).to.equal(s);
    expect(body.open()).to.equal(undefined);
  });

  it('streams a chunked body that passes the cap without losing a byte, then refuses a replay', async () => {
    const body = new ReplayableBody(stream('01234', '56789', 'abcde', 'fg'), undefined, 8);
    expect(await readable(body.open())).to.equal('0123456789abcdefg');
    expect(body.open()).to.equal(undefined);
  });

  it('does not wait for the end of the body before the first attempt sees its first bytes', async () => {
    const client = new PassThrough();
    const body = new ReplayableBody(client, undefined, 100);
    const first = body.open() as Readable;
    client.write('hello');
    const seen = await new Promise<string>((resolve) => first.once('data', (c: Buffer) => resolve(c.toString())));
    // The client has not finished (a bidi stream waiting for a reply): the attempt already has data.
    expect(seen).to.equal('hello');
    client.end();
  });

  it('a retry while the client is still sending replays what came so far, then continues live', async () => {
    const client = new PassThrough();
    const body = new ReplayableBody(client, undefined, 100);
    const first = body.open() as Readable;
    client.write('one,');
    await new Promise((r) => first.once('data', r));
    const second = body.open() as Readable;
    const all = text(second);
    client.write('two,');
    client.end('three');
    expect(await all).to.equal('one,two,three');
  });

  it('fails the attempt in flight when the client goes away', async () => {
    const client = new PassThrough();
    const body = new ReplayableBody(client, undefined, 100);
    const first = body.open() as Readable;
    const failed = new Promise<Error>((resolve) => first.once('error', resolve));
    client.destroy(new Error('client gone'));
    expect((await failed).message).to.equal('client gone');
    expect(body.replayable).to.equal(false);
    expect(body.open()).to.equal(undefined);
  });
});
