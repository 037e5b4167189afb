import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { expect } from 'chai';
import { bufferForReplay } from '../../src/layers/replay-buffer';

describe('layers/replay-buffer', () => {
  const stream = (...parts: string[]): Readable => Readable.from(parts.map((p) => Buffer.from(p)), { objectMode: false });

  it('keeps no body and a buffer as they are', async () => {
    expect(await bufferForReplay(null, 0, 10)).to.deep.equal({ replayable: true, body: null });
    const b = Buffer.from('x');
    expect((await bufferForReplay(b, 1, 10)).body).to.equal(b);
  });

  it('reads a small stream into memory', async () => {
    const r = await bufferForReplay(stream('ab', 'cd'), undefined, 10);
    expect(r.replayable).to.equal(true);
    expect(r.body?.toString()).to.equal('abcd');
  });

  it('does not read a body declared larger than the cap', async () => {
    const s = stream('0123456789ab');
    const r = await bufferForReplay(s, 12, 10);
    expect(r).to.deep.equal({ replayable: false, body: s });
  });

  it('streams a chunked body that passes the cap, without losing what it read', async () => {
    const r = await bufferForReplay(stream('01234', '56789', 'abcde', 'fg'), undefined, 8);
    expect(r.replayable).to.equal(false);
    if (r.replayable) return;
    expect(await text(r.body)).to.equal('0123456789abcdefg');
  });

  it('rejects when the stream fails', async () => {
    const s = new Readable({ read() {} });
    const p = bufferForReplay(s, undefined, 10);
    s.destroy(new Error('client gone'));
    const err = await p.catch((e: unknown) => e);
    expect((err as Error).message).to.equal('client gone');
  });
});
