import { expect } from 'chai';
import { HeadError, parseHead } from '../../src/http1/head';

/** A response head as the reader hands it to parseHead: without the blank line's CRLF CRLF. */
const response = (...lines: string[]): string => ['HTTP/1.1 200 OK', ...lines].join('\r\n');
const LIMITS = { maxHeaderCount: 10 };

describe('http1/head: parsing a message head', () => {
  it('reads a status line with and without its reason phrase', () => {
    for (const line of ['HTTP/1.1 200 OK', 'HTTP/1.1 200 ', 'HTTP/1.1 200', 'HTTP/1.1 404 Not Found at all']) {
      const head = parseHead(line, false, LIMITS);
      expect([head.status, head.minor], line).to.deep.equal([Number(line.slice(9, 12)), 1]);
    }
  });

  it('reads the framing and connection fields out of the head', () => {
    const head = parseHead(response('Content-Length: 12', 'Set-Cookie: a=1', 'set-cookie: b=2', 'Keep-Alive: timeout=5, max=100', 'X-Empty:'), false, LIMITS);
    expect(head.contentLength).to.equal(12);
    expect(head.headers['set-cookie']).to.deep.equal(['a=1', 'b=2']);
    expect(head.headers['x-empty']).to.equal('');
    expect(head.keepAliveMs).to.equal(5000);
    expect(head.close).to.equal(false);
    expect(parseHead(response('Transfer-Encoding: gzip, Chunked'), false, LIMITS)).to.include({ chunked: true, otherCoding: false, contentLength: -1 });
    expect(parseHead(response('Transfer-Encoding: chunked', 'Transfer-Encoding: gzip'), false, LIMITS)).to.include({ chunked: false, otherCoding: true });
    expect(parseHead(response('Connection: keep-alive, Close'), false, LIMITS).close).to.equal(true);
    expect(parseHead('HTTP/1.0 200 OK', false, LIMITS).close, 'HTTP/1.0 closes unless kept alive').to.equal(true);
    expect(parseHead('HTTP/1.0 200 OK\r\nConnection: keep-alive', false, LIMITS).close).to.equal(false);
    expect(parseHead('GET / HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: WebSocket', true, LIMITS).upgrade).to.equal('websocket');
    expect(parseHead('GET / HTTP/1.1\r\nUpgrade: websocket', true, LIMITS).upgrade, 'an Upgrade that Connection does not name').to.equal(undefined);
  });

  it('stores fields named like an object\'s own members as fields', () => {
    const head = parseHead(response('constructor: a', 'toString: b', 'hasOwnProperty: c', 'constructor: d', 'valueOf: e'), false, LIMITS);
    expect(head.headers['constructor']).to.deep.equal(['a', 'd']);
    expect(head.headers['tostring']).to.equal('b');
    expect(head.headers['hasownproperty']).to.equal('c');
    expect(head.headers['valueof']).to.equal('e');
  });

  const refusals: [string, string, boolean, number][] = [
    ['a bare LF ending a field', 'HTTP/1.1 200 OK\r\nA: b\nC: d', false, 400],
    ['a bare LF ending the start line', 'HTTP/1.1 200 OK\nA: b', false, 400],
    ['a bare CR inside a field', response('A: b\rc'), false, 400],
    ['a bare CR ending the last field', response('A: b\r'), false, 400],
    ['Content-Length beside Transfer-Encoding', response('Content-Length: 5', 'Transfer-Encoding: chunked'), false, 400],
    ['Transfer-Encoding beside Content-Length', response('Transfer-Encoding: chunked', 'Content-Length: 5'), false, 400],
    ['two different Content-Lengths', response('Content-Length: 5', 'Content-Length: 6'), false, 400],
    ['a Content-Length list', response('Content-Length: 5, 6'), false, 400],
    ['a signed Content-Length', response('Content-Length: +5'), false, 400],
    ['a hex Content-Length', response('Content-Length: 0x5'), false, 400],
    ['an empty Content-Length', response('Content-Length: '), false, 400],
    ['a Content-Length too long for a number', response('Content-Length: 99999999999999999999'), false, 400],
    ['a NUL in a header value', response('A: b\u0000c'), false, 400],
    ['a NUL in a request target', 'GET /a\u0000b HTTP/1.1', true, 400],
    ['a header name that is no token', response('A(b): c'), false, 400],
    ['a header name with a non-ASCII byte', response('\u00e4: c'), false, 400],
    ['an empty header name', response(': c'), false, 400],
    ['a header line without a colon', response('no colon here'), false, 400],
    ['whitespace before the colon', response('Content-Length : 5'), false, 400],
    ['obsolete line folding', response('A: b', ' c'), false, 400],
    ['a __proto__ field', response('__proto__: x'), false, 400],
    ['a __PROTO__ field', response('__PROTO__: x'), false, 400],
    ['more header fields than the limit', response(...Array.from({ length: 11 }, (_, i) => `h${i}: v`)), false, 431],
    ['HTTP/2.0', 'HTTP/2.0 200 OK', false, 505],
    ['HTTP/1.2', 'HTTP/1.2 200 OK', false, 505],
    ['HTTP/2.0 in a request', 'GET / HTTP/2.0', true, 505],
    ['a version that is no HTTP', 'HTTQ/1.1 200 OK', false, 400],
    ['a two-digit status', 'HTTP/1.1 20 OK', false, 400],
    ['a four-digit status', 'HTTP/1.1 2000 OK', false, 400],
    ['a status below 100', 'HTTP/1.1 099 OK', false, 400],
    ['a request line without a target', 'GET  HTTP/1.1', true, 400],
    ['a request line with a space in its target', 'GET /a b HTTP/1.1', true, 400],
    ['a method that is no token', 'G(T / HTTP/1.1', true, 400],
    ['Transfer-Encoding in HTTP/1.0', 'HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked', false, 400],
  ];
  for (const [what, text, isRequest, status] of refusals) {
    it(`refuses ${what} (${status})`, () => {
      let err: unknown;
      try {
        parseHead(text, isRequest, LIMITS);
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(HeadError);
      expect((err as HeadError).status).to.equal(status);
    });
  }

  it('reads names seen before in any case, and refuses a bad name after many good ones', () => {
    // Names are remembered (knownNames): the second and later heads take that path.
    for (let i = 0; i < 3; i++) {
      const head = parseHead(response('Content-Type: a', 'content-type: b', 'CONTENT-TYPE: c', 'X-Seen: d'), false, LIMITS);
      expect(head.headers['content-type']).to.deep.equal(['a', 'b', 'c']);
      expect(head.headers['x-seen']).to.equal('d');
    }
    // More distinct names than the table holds (collisions replace entries): each still read, lower-cased.
    for (let i = 0; i < 2000; i++) expect(parseHead(response(`X-Name-${i}: v`, `x-name-${i}: w`), false, LIMITS).headers[`x-name-${i}`]).to.deep.equal(['v', 'w']);
    // A name one character off a known one (same length) is its own field, and a character no token has is refused.
    expect(parseHead(response('X-Seen: d', 'X-Seem: e'), false, LIMITS).headers).to.deep.equal({ 'x-seen': 'd', 'x-seem': 'e' });
    // Names longer than the table keeps are read the long way, every time.
    const long = `X-${'Long'.repeat(40)}`;
    for (let i = 0; i < 2; i++) expect(parseHead(response(`${long}: a`, `${long.toLowerCase()}: b`), false, LIMITS).headers[long.toLowerCase()]).to.deep.equal(['a', 'b']);
    expect(() => parseHead(response(`${long}(: a`), false, LIMITS)).to.throw(HeadError);
    expect(() => parseHead(response('X-Seen: d', 'X-Se n: d'), false, LIMITS)).to.throw(HeadError);
    expect(() => parseHead(response('X-Seen: d', 'X(Seen): d'), false, LIMITS)).to.throw(HeadError);
    expect(() => parseHead(response('__Proto__: x'), false, LIMITS)).to.throw(HeadError);
  });

  it('reads a value without the whitespace around it, as trim() does', () => {
    const head = parseHead(response('A: \t b c \t', 'B:x', 'C:   ', 'D: \u00a0e\u00a0 ', 'E: \tf'), false, LIMITS);
    expect(head.headers).to.deep.equal({ a: 'b c', b: 'x', c: '', d: 'e', e: 'f' });
    // Vertical tab and form feed around a value were trimmed away, as before; inside it they are refused.
    expect(parseHead(response('F: \u000bg\u000c'), false, LIMITS).headers['f']).to.equal('g');
    expect(() => parseHead(response('F: g\u000bh'), false, LIMITS)).to.throw(HeadError);
  });

  it('reads close and keep-alive only as whole tokens of Connection', () => {
    expect(parseHead(response('Connection: closed'), false, LIMITS).close).to.equal(false);
    expect(parseHead(response('Connection: keep-alive'), false, LIMITS).close).to.equal(false);
    expect(parseHead(response('Connection: te, close'), false, LIMITS).close).to.equal(true);
    expect(parseHead('HTTP/1.0 200 OK\r\nConnection: keep-alive-ish', false, LIMITS).close).to.equal(true);
    expect(parseHead('HTTP/1.0 200 OK\r\nConnection: te, Keep-Alive', false, LIMITS).close).to.equal(false);
  });

  it('accepts the same Content-Length twice', () => {
    expect(parseHead(response('Content-Length: 5', 'content-length: 5'), false, LIMITS).contentLength).to.equal(5);
  });
});
