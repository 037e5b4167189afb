import { PassThrough, Readable, Writable } from 'node:stream';
import { expect } from 'chai';
import { pipeBody } from '../../src/http/pipe-body';

/** A destination that keeps what it is given; `close` is emitted as a response's would be. */
function sink(): Writable & { chunks: Buffer[] } {
  const chunks: Buffer[] = [];
  const w = new Writable({ write: (chunk: Buffer, _enc, cb) => (chunks.push(chunk), cb()) });
  return Object.assign(w, { chunks });
}

function settled(): { promise: Promise<Array<Error | undefined>>; done: (err: Error | undefined) => void } {
  const calls: Array<Error | undefined> = [];
  let resolve!: (v: Array<Error | undefined>) => void;
  const promise = new Promise<Array<Error | undefined>>((r) => (resolve = r));
  return { promise, done: (err) => (calls.push(err), setTimeout(() => resolve(calls), 20)) };
}

describe('pipeBody', () => {
  it('streams the body and reports success once the destination finished', async () => {
    const dest = sink();
    const s = settled();
    pipeBody(Readable.from([Buffer.from('a'), Buffer.from('b')]), dest, s.done);
    expect(await s.promise).to.deep.equal([undefined]);
    expect(Buffer.concat(dest.chunks).toString()).to.equal('ab');
    expect(dest.writableFinished).to.equal(true);
  });

  it('an upstream body that fails midway cuts the destination, and says why once', async () => {
    const body = new PassThrough();
    const dest = sink();
    const s = settled();
    pipeBody(body, dest, s.done);
    body.write('partial');
    const boom = new Error('upstream reset');
    setImmediate(() => body.destroy(boom));
    expect(await s.promise).to.deep.equal([boom]);
    expect(dest.destroyed).to.equal(true);
    expect(dest.writableFinished).to.equal(false);
  });

  it('a body that closes before its end cuts the destination', async () => {
    const body = new PassThrough();
    const dest = sink();
    const s = settled();
    pipeBody(body, dest, s.done);
    body.write('partial');
    setImmediate(() => body.destroy());
    const calls = await s.promise;
    expect(calls).to.have.length(1);
    expect((calls[0] as NodeJS.ErrnoException).code).to.equal('ERR_STREAM_PREMATURE_CLOSE');
    expect(dest.destroyed).to.equal(true);
  });

  it('a client that goes away destroys the upstream body (aborting the upstream request)', async () => {
    const body = new PassThrough();
    body.on('error', () => undefined);
    const dest = sink();
    const s = settled();
    pipeBody(body, dest, s.done);
    body.write('partial');
    setImmediate(() => dest.destroy());
    const calls = await s.promise;
    expect(calls).to.have.length(1);
    expect((calls[0] as NodeJS.ErrnoException).code).to.equal('ERR_STREAM_PREMATURE_CLOSE');
    expect(body.destroyed).to.equal(true);
  });

  it('an error after the end neither cuts the finished destination nor goes unhandled', async () => {
    const body = new PassThrough({ autoDestroy: false });
    const dest = sink();
    const s = settled();
    pipeBody(body, dest, s.done);
    body.end('whole');
    expect(await s.promise).to.deep.equal([undefined]);
    body.emit('error', new Error('late'));
    dest.emit('error', new Error('late'));
    expect(dest.writableFinished).to.equal(true);
  });
});
