import { expect } from 'chai';
import { MessageReader, type ReaderLimits } from '../../src/http1/message-reader';
import { RecordingSink } from './recording-sink';

const LIMITS: ReaderLimits = { maxHeadBytes: 1024, maxHeaderCount: 20 };

/** Reads `bytes` as pieces cut at `cuts`, then the connection's end; what the sink saw. */
function read(bytes: string, cuts: number[], isRequest = false, headless: number[] = []): RecordingSink {
  const sink = new RecordingSink();
  sink.headless = new Set(headless);
  const reader = new MessageReader(sink, isRequest, LIMITS);
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    if (cut > from) reader.push(Buffer.from(bytes.slice(from, cut), 'latin1'));
    from = cut;
  }
  if (!reader.end() && sink.error === undefined) sink.messages.push({ head: sink.messages[0]?.head ?? ({} as never), body: '<cut>', trailers: undefined, ended: false });
  return sink;
}

const oneByOne = (bytes: string): number[] => Array.from({ length: bytes.length }, (_, i) => i);

/** Fed whole, one byte at a time, and split at every single position: the same messages every time. */
function expectSameWhateverTheSplit(bytes: string, isRequest = false, headless: number[] = []): RecordingSink {
  const whole = read(bytes, [], isRequest, headless);
  expect(read(bytes, oneByOne(bytes), isRequest, headless).summary(), 'fed one byte at a time').to.deep.equal(whole.summary());
  for (let at = 1; at < bytes.length; at++) expect(read(bytes, [at], isRequest, headless).summary(), `split at ${at}`).to.deep.equal(whole.summary());
  return whole;
}

const CHUNKED_WITH_TRAILERS =
  'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: x-checksum\r\n\r\n' +
  '5;name=value;quoted="a;b"\r\nhello\r\n1 ; ext\r\n,\r\nA\r\n world!!!!\r\n0\r\nX-Checksum: abc\r\nX-Other: 1\r\n\r\n';

describe('http1/message-reader and chunked: messages from a connection\'s reads', () => {
  it('reads a Content-Length response the same however its reads are split', () => {
    const sink = expectSameWhateverTheSplit('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\n\r\nhello');
    expect(sink.summary()).to.deep.equal({ error: undefined, messages: [{ status: 200, method: '', headers: { 'content-length': '5', 'x-a': '1' }, body: 'hello', trailers: undefined, ended: true }] });
  });

  it('reads a chunked body with extensions and trailers the same however its reads are split', () => {
    const sink = expectSameWhateverTheSplit(CHUNKED_WITH_TRAILERS);
    const [message] = sink.messages;
    expect(message?.body).to.equal('hello, world!!!!');
    expect(message?.trailers).to.deep.equal({ 'x-checksum': 'abc', 'x-other': '1' });
  });

  it('reads a chunked body without trailers: none are reported', () => {
    const sink = expectSameWhateverTheSplit('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n');
    expect(sink.messages[0]).to.include({ body: 'abc', trailers: undefined, ended: true });
  });

  it('reads several messages in one read, and in any split: 1xx then 200, 204, 304, HEAD, chunked, length', () => {
    const bytes =
      'HTTP/1.1 100 Continue\r\n\r\n' +
      'HTTP/1.1 200\r\nContent-Length: 2\r\n\r\nok' +
      'HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n' +
      'HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n' +
      'HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n' + // the answer to a HEAD request: no body
      CHUNKED_WITH_TRAILERS +
      'HTTP/1.1 201 Created\r\nContent-Length: 3\r\n\r\nend';
    const sink = expectSameWhateverTheSplit(bytes, false, [4]);
    expect(sink.messages.map((m) => [m.head.status, m.body, m.ended])).to.deep.equal([
      [100, '', true],
      [200, 'ok', true],
      [204, '', true],
      [304, '', true],
      [200, '', true],
      [200, 'hello, world!!!!', true],
      [201, 'end', true],
    ]);
  });

  it('reads a response without length to the connection\'s end', () => {
    const sink = expectSameWhateverTheSplit('HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nall of this\r\n\r\nHTTP/1.1 200 OK\r\n\r\n');
    expect(sink.messages).to.have.length(1);
    expect(sink.messages[0]).to.include({ body: 'all of this\r\n\r\nHTTP/1.1 200 OK\r\n\r\n', ended: true });
  });

  it('reads a response with an unknown transfer coding to the connection\'s end', () => {
    const sink = read('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nzzz', [20]);
    expect(sink.messages[0]).to.include({ body: 'zzz', ended: true });
  });

  it('says a message cut short by the connection\'s end was cut', () => {
    for (const bytes of ['HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n', 'HTTP/1.1 200 OK\r\nContent-']) {
      const sink = new RecordingSink();
      const reader = new MessageReader(sink, false, LIMITS);
      reader.push(Buffer.from(bytes));
      expect(reader.end(), bytes).to.equal(false);
    }
  });

  it('reads requests one after another, with the empty lines a client may send before one', () => {
    const sink = expectSameWhateverTheSplit('\r\nGET /a HTTP/1.1\r\nHost: x\r\n\r\n\r\nPOST /b HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc', true);
    expect(sink.messages.map((m) => [m.head.method, m.head.target, m.body])).to.deep.equal([
      ['GET', '/a', ''],
      ['POST', '/b', 'abc'],
    ]);
  });

  it('hold stops at the next message boundary, the current body still flows, and release reads on', () => {
    const sink = new RecordingSink();
    const reader = new MessageReader(sink, true, LIMITS);
    reader.push(Buffer.from('POST /a HTTP/1.1\r\nContent-Length: 6\r\n\r\nab'));
    reader.hold(); // a server owes the first an answer before it reads the next
    reader.push(Buffer.from('cd'));
    reader.push(Buffer.from('efGET /b HTTP/1.1\r\n\r\nGET /c HTTP/1.1\r\n\r\n'));
    expect(sink.messages.map((m) => [m.head.target, m.body, m.ended])).to.deep.equal([['/a', 'abcdef', true]]);
    expect(reader.inMessage, 'the next message waits').to.equal(true);
    sink.onEndHook = () => reader.hold();
    reader.release();
    expect(sink.messages.map((m) => m.head.target)).to.deep.equal(['/a', '/b']);
    reader.release();
    expect(sink.messages.map((m) => m.head.target)).to.deep.equal(['/a', '/b', '/c']);
    expect(reader.inMessage).to.equal(false);
  });

  it('inMessage, asked from onEnd, says whether more bytes followed the message in the same read', () => {
    const sink = new RecordingSink();
    const reader = new MessageReader(sink, false, LIMITS);
    const seen: boolean[] = [];
    sink.onEndHook = () => seen.push(reader.inMessage);
    reader.push(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'));
    reader.push(Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nHTTP/1.1 204 No Content\r\n\r\nX'));
    expect(seen).to.deep.equal([true, false, true, true]);
  });

  const refusals: [string, string, number, string][] = [
    ['a chunk size that is no hex', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 400, 'malformed chunk size'],
    ['a chunk size line without digits', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n;ext\r\n', 400, 'malformed chunk size'],
    ['a chunk size too large', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1000000000000\r\n', 400, 'chunk size too large'],
    ['a chunk size line ended by a bare LF', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n', 400, 'malformed chunk size'],
    ['chunk data longer than its size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello!\r\n0\r\n\r\n', 400, 'chunk data longer than its size'],
    ['chunk data ended by a bare CR', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r0\r\n\r\n', 400, 'a line not ended by CRLF'],
    ['a chunk extension over its limit', `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;${'x'.repeat(2000)}\r\n`, 400, 'chunk extensions too long'],
    ['trailers over their limit', `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n${'x-a: b\r\n'.repeat(3000)}\r\n`, 431, 'trailers too large'],
    ['the trailer section ended by a bare LF', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\n', 400, 'a line not ended by CRLF'],
    ['a trailer ended by a bare LF', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nx-a: b\n', 400, 'a line not ended by CRLF'],
    ['a chunk size followed by something other than an extension', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5 5\r\nhello\r\n0\r\n\r\n', 400, 'malformed chunk size'],
    ['a malformed trailer', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nx y: b\r\n\r\n', 400, 'malformed header field name'],
    ['a head over maxHeadBytes, its end not yet read', `HTTP/1.1 200 OK\r\nx-a: ${'a'.repeat(1100)}`, 431, 'a head over 1024 bytes'],
    ['a head over maxHeadBytes in one read', `HTTP/1.1 200 OK\r\nx-a: ${'a'.repeat(1100)}\r\n\r\n`, 431, 'a head over 1024 bytes'],
    ['more fields than the limit', `HTTP/1.1 200 OK\r\n${'x-a: b\r\n'.repeat(21)}\r\n`, 431, 'more than 20 header fields'],
    ['HTTP/2.0', 'HTTP/2.0 200 OK\r\n\r\n', 505, 'unsupported HTTP version'],
  ];
  for (const [what, bytes, status, message] of refusals) {
    it(`refuses ${what} (${status}), fed whole or one byte at a time, and reads no more`, () => {
      for (const cuts of [[], oneByOne(bytes)]) {
        const sink = new RecordingSink();
        const reader = new MessageReader(sink, false, LIMITS);
        let from = 0;
        for (const cut of [...cuts, bytes.length]) {
          if (cut > from) reader.push(Buffer.from(bytes.slice(from, cut), 'latin1'));
          from = cut;
        }
        expect([sink.error?.status, sink.error?.message], `${cuts.length} cuts`).to.deep.equal([status, message]);
        expect(reader.stopped).to.equal(true);
        reader.push(Buffer.from('HTTP/1.1 200 OK\r\n\r\n'));
        expect(sink.messages.filter((m) => m.ended && m.head.status === 200 && m.body === '' && m.head.headers['content-length'] === undefined && !m.head.chunked)).to.have.length(0);
      }
    });
  }
});
