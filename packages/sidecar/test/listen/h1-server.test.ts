import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { expect } from 'chai';
import type { CodecDownstream } from '../../src/http/downstream-h1-codec';
import type { Downstream } from '../../src/http/downstream';
import { H1Server } from '../../src/listen/h1-server';
import { LISTENER_LIMITS, type ListenerLimits } from '../../src/listen/mux-listener';
import type { ProxyResponse } from '../../src/layers/service';

const OPTIONS = { dropMeshHeaders: false, extra: {}, grpc: false };

/**
 * Weft's own HTTP/1.1 server (listen/h1-server.ts, h1-connection.ts, http/downstream-h1-codec.ts)
 * on real sockets, spoken to in raw bytes: what a peer sidecar (or anything that gets past mTLS)
 * may send, and what comes back.
 */
describe('listen/h1-server (Weft codec, raw bytes)', function () {
  this.timeout(10_000);
  let net: Server;
  let port: number;
  let h1: H1Server;
  let handler: (d: CodecDownstream) => void;
  let upgrades: Downstream[];
  let timeouts: string[];
  let limits: ListenerLimits = LISTENER_LIMITS;
  const sockets = new Set<Socket>();

  async function start(l: ListenerLimits = LISTENER_LIMITS): Promise<void> {
    limits = l;
    upgrades = [];
    timeouts = [];
    h1 = new H1Server({ limits, serve: (d) => handler(d), serveUpgrade: (d) => upgrades.push(d), onTimeout: (r) => timeouts.push(r) });
    net = createServer({ allowHalfOpen: true }, (s) => {
      sockets.add(s);
      s.once('close', () => sockets.delete(s));
      h1.accept(s);
    });
    await new Promise<void>((resolve) => net.listen(0, '127.0.0.1', resolve));
    port = (net.address() as AddressInfo).port;
  }

  async function stop(): Promise<void> {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => net.close(() => resolve()));
  }

  /** Answers each request with `METHOD target body` (the body read whole), 200. */
  const echo = (d: CodecDownstream): void => {
    const { body } = d.takeBody();
    void (body ? text(body) : Promise.resolve('')).then((b) => respond(d, { status: 200, headers: { 'x-target': d.url }, body: Buffer.from(`${d.method} ${d.url} ${b}`) }));
  };

  function respond(d: Downstream, response: ProxyResponse): void {
    d.respond({ response }, OPTIONS, () => undefined);
  }

  /** Sends raw bytes, and reads until the server closes (or `until` matches what came back). */
  function talk(bytes: string | Buffer[], until?: (got: string) => boolean, ms = 3000): Promise<{ got: string; closed: boolean }> {
    return new Promise((resolve) => {
      const s = connect(port, '127.0.0.1');
      let got = '';
      const timer = setTimeout(() => finish(false), ms);
      const finish = (closed: boolean): void => {
        clearTimeout(timer);
        s.destroy();
        resolve({ got, closed });
      };
      s.on('data', (c: Buffer) => {
        got += c.toString('latin1');
        if (until?.(got)) finish(false);
      });
      s.on('error', () => undefined);
      s.on('close', () => finish(true));
      if (typeof bytes === 'string') s.write(bytes, 'latin1');
      else {
        // One write per piece, with a pause between: heads and bodies split at awkward places.
        void (async () => {
          for (const piece of bytes) {
            s.write(piece);
            await new Promise((r) => setTimeout(r, 15));
          }
        })();
      }
    });
  }

  const count = (got: string, what: string): number => got.split(what).length - 1;

  describe('with the default limits', () => {
    before(() => start());
    after(() => stop());
    beforeEach(() => (handler = echo));

    it('serves several requests on one kept-alive connection, in order, pipelined or not', async () => {
      const { got, closed } = await talk('GET /a HTTP/1.1\r\nhost: x\r\n\r\nPOST /b HTTP/1.1\r\nhost: x\r\ncontent-length: 3\r\n\r\nabcGET /c HTTP/1.1\r\nhost: x\r\n\r\n', (g) => g.includes('GET /c '));
      expect(closed, 'kept alive').to.equal(false);
      const order = [...got.matchAll(/x-target: (\S+)/g)].map((m) => m[1]);
      expect(order).to.deep.equal(['/a', '/b', '/c']);
      expect(got).to.contain('POST /b abc');
      expect(count(got, 'HTTP/1.1 200 OK\r\n')).to.equal(3);
    });

    it('reads a head and body split anywhere, and a chunked body with extensions and trailers', async () => {
      const pieces = ['PO', 'ST /up HTTP/1.1\r\nho', 'st: x\r\ntransfer-encoding: chunked\r', '\n\r\n3;ext=1\r\nabc', '\r\n2\r\nde\r\n0\r\nx-t: 1\r\n\r', '\n'].map((p) => Buffer.from(p));
      const { got } = await talk(pieces, (g) => g.includes('POST /up'));
      expect(got).to.contain('POST /up abcde');
      expect(got).to.match(/content-length: 14\r\n/);
    });

    const refusals: [string, string, number][] = [
      ['Content-Length with Transfer-Encoding (smuggling)', 'POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 3\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n', 400],
      ['two different Content-Lengths', 'POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 3\r\ncontent-length: 4\r\n\r\nabcd', 400],
      ['a Content-Length that is no number', 'POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 3x\r\n\r\nabc', 400],
      ['a bare LF ending a line', 'GET / HTTP/1.1\nhost: x\r\n\r\n', 400],
      ['a bare CR inside a value', 'GET / HTTP/1.1\r\nhost: x\rbad\r\n\r\n', 400],
      ['whitespace before the colon', 'GET / HTTP/1.1\r\nhost : x\r\n\r\n', 400],
      ['obsolete line folding', 'GET / HTTP/1.1\r\nhost: x\r\nx-a: 1\r\n  2\r\n\r\n', 400],
      ['a __proto__ header', 'GET / HTTP/1.1\r\nhost: x\r\n__proto__: 1\r\n\r\n', 400],
      ['two Host headers', 'GET / HTTP/1.1\r\nhost: x\r\nhost: y\r\n\r\n', 400],
      ['a transfer coding other than chunked', 'POST / HTTP/1.1\r\nhost: x\r\ntransfer-encoding: gzip\r\n\r\n', 501],
      ['HTTP/2.0 in the request line', 'GET / HTTP/2.0\r\nhost: x\r\n\r\n', 505],
      ['CONNECT', 'CONNECT orders:443 HTTP/1.1\r\nhost: orders:443\r\n\r\n', 405],
      ['more header fields than the limit', `GET / HTTP/1.1\r\nhost: x\r\n${'x-a: 1\r\n'.repeat(LISTENER_LIMITS.maxHeaderCount)}\r\n`, 431],
      ['a head larger than the limit', `GET / HTTP/1.1\r\nhost: x\r\nx-big: ${'a'.repeat(LISTENER_LIMITS.maxHeaderBytes)}\r\n\r\n`, 431],
      ['garbage as a chunk size', 'POST / HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n', -1],
    ];
    for (const [what, bytes, status] of refusals) {
      it(`refuses ${what}${status > 0 ? ` with ${status}` : ' by closing the connection'}, and closes it`, async () => {
        let served = 0;
        handler = (d) => {
          served += 1;
          echo(d);
        };
        const { got, closed } = await talk(bytes);
        expect(closed, 'the connection is closed').to.equal(true);
        if (status > 0) {
          expect(got.slice(0, 12)).to.equal(`HTTP/1.1 ${status}`);
          expect(got).to.contain('x-weft-error: WEFT_ERR_BAD_REQUEST');
          expect(served, 'no layer saw it').to.equal(0);
        } else expect(got).to.not.contain('200 OK');
      });
    }

    it('folds repeated fields as Node does: cookie with "; ", others with ", ", set-cookie kept apart', async () => {
      let seen: Readonly<Record<string, unknown>> = {};
      handler = (d) => {
        seen = d.headers;
        respond(d, { status: 204, headers: {}, body: null });
      };
      await talk('GET / HTTP/1.1\r\nhost: x\r\ncookie: a=1\r\ncookie: b=2\r\naccept: a\r\naccept: b\r\nuser-agent: one\r\nuser-agent: two\r\n\r\n', (g) => g.includes('\r\n\r\n'));
      expect(seen['cookie']).to.equal('a=1; b=2');
      expect(seen['accept']).to.equal('a, b');
      expect(seen['user-agent']).to.equal('one');
    });

    it('answers 100 Continue to a request that expects it, before its body is sent', async () => {
      const s = connect(port, '127.0.0.1');
      let got = '';
      s.on('data', (c: Buffer) => (got += c.toString('latin1')));
      s.write('POST /e HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\nexpect: 100-continue\r\n\r\n');
      await until(() => got.includes('100 Continue'));
      expect(got).to.not.contain('200 OK');
      s.write('hi');
      await until(() => got.includes('POST /e hi'));
      s.destroy();
    });

    it('writes a streamed answer of unknown length chunked, with its trailers, and keeps the connection', async () => {
      handler = (d) => {
        const body = Readable.from([Buffer.from('ab'), Buffer.from('cde')]);
        respond(d, { status: 200, headers: {}, body, trailers: () => ({ 'x-sum': '5' }) });
      };
      const { got, closed } = await talk('GET / HTTP/1.1\r\nhost: x\r\n\r\n', (g) => g.endsWith('\r\n\r\n') && g.includes('x-sum'));
      expect(closed).to.equal(false);
      expect(got).to.contain('transfer-encoding: chunked\r\n');
      expect(got.slice(got.indexOf('\r\n\r\n') + 4)).to.equal('2\r\nab\r\n3\r\ncde\r\n0\r\nx-sum: 5\r\n\r\n');
    });

    it('sends a HEAD answer its content-length but no body, and a 204 neither', async () => {
      handler = (d) => respond(d, { status: d.url === '/none' ? 204 : 200, headers: { 'content-length': '5' }, body: Buffer.from('hello') });
      const { got } = await talk('HEAD / HTTP/1.1\r\nhost: x\r\n\r\nGET /none HTTP/1.1\r\nhost: x\r\n\r\nGET / HTTP/1.1\r\nhost: x\r\n\r\n', (g) => g.endsWith('hello'));
      const answers = got.split('HTTP/1.1 ').slice(1);
      expect(answers[0]).to.match(/^200 OK\r\ncontent-length: 5\r\nkeep-alive: timeout=65\r\n\r\n$/);
      expect(answers[1]).to.match(/^204 No Content\r\nkeep-alive: timeout=65\r\n\r\n$/);
      expect(answers[2]).to.match(/\r\n\r\nhello$/);
    });

    it('closes after answering an HTTP/1.0 request, whose streamed answer is delimited by the close', async () => {
      handler = (d) => respond(d, { status: 200, headers: {}, body: Readable.from([Buffer.from('old')]) });
      const { got, closed } = await talk('GET / HTTP/1.0\r\n\r\n');
      expect(closed).to.equal(true);
      expect(got).to.contain('connection: close\r\n');
      expect(got).to.not.contain('chunked');
      expect(got.endsWith('\r\n\r\nold')).to.equal(true);
    });

    it('closes the connection after an answer given before the request body was read', async () => {
      handler = (d) => respond(d, { status: 413, headers: {}, body: Buffer.from('too big') });
      const { got, closed } = await talk('POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 100000\r\n\r\nabc');
      expect(closed).to.equal(true);
      expect(got).to.contain('HTTP/1.1 413');
      expect(got).to.contain('connection: close\r\n');
    });

    it('tells the exchange when the client leaves before its answer, and fails the body still arriving', async () => {
      let complete: boolean | undefined;
      let bodyError: Error | undefined;
      handler = (d) => {
        d.onClose((c) => (complete = c));
        d.takeBody().body?.on('error', (err: Error) => (bodyError = err));
      };
      const s = connect(port, '127.0.0.1');
      s.write('POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 10\r\n\r\nab');
      await until(() => sockets.size > 0);
      await new Promise((r) => setTimeout(r, 50));
      s.destroy();
      await until(() => complete !== undefined);
      expect(complete).to.equal(false);
      expect(bodyError?.message).to.contain('closed');
    });

    it('hands an Upgrade request over with the bytes sent after its head', async () => {
      const s = connect(port, '127.0.0.1');
      s.write('GET /ws HTTP/1.1\r\nhost: x\r\nconnection: Upgrade\r\nupgrade: websocket\r\n\r\nEARLY');
      await until(() => upgrades.length === 1);
      const d = upgrades[0] as Downstream;
      expect([d.method, d.url, d.upgrade]).to.deep.equal(['GET', '/ws', 'websocket']);
      s.destroy();
    });
  });

  describe('with short timeouts', () => {
    before(() => start({ ...LISTENER_LIMITS, headersTimeoutMs: 300, keepAliveTimeoutMs: 400 }));
    after(() => stop());
    beforeEach(() => (handler = echo));

    it('answers 408 to a head that does not arrive in time (slow-loris) and counts it', async () => {
      const { got, closed } = await talk('GET / HTTP/1.1\r\nhost: x\r\n', undefined, 3000);
      expect(closed).to.equal(true);
      expect(got.slice(0, 12)).to.equal('HTTP/1.1 408');
      expect(timeouts).to.include('headers');
    });

    it('closes a kept-alive connection left idle', async () => {
      const started = Date.now();
      const { got, closed } = await talk('GET / HTTP/1.1\r\nhost: x\r\n\r\n', undefined, 4000);
      expect(got).to.contain('200 OK');
      expect(closed).to.equal(true);
      expect(Date.now() - started).to.be.at.least(400);
    });
  });

  describe('while draining', () => {
    before(() => start());
    after(() => stop());

    it('says connection: close on the answers still to come', async () => {
      handler = echo;
      h1.draining = true;
      const { got, closed } = await talk('GET / HTTP/1.1\r\nhost: x\r\n\r\n');
      expect(closed).to.equal(true);
      expect(got).to.contain('connection: close\r\n');
    });
  });
});

async function until(check: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}
