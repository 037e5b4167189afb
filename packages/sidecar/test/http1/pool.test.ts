import { connect as netConnect } from 'node:net';
import { Readable } from 'node:stream';
import { expect } from 'chai';
import { waitFor } from '@weft/harness';
import { H1Pool } from '../../src/http1/pool';
import { plainPool, RawPeer, READ_MODES, RecordingHandler, send, type RawConnection } from './pool-fixture';

const ok = (c: RawConnection, body = 'ok', extra = ''): void => void c.socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`);
const pathOf = (request: string): string => request.slice(request.indexOf(' ') + 1, request.indexOf(' HTTP/1.1'));

/**
 * H1Pool (http1/pool.ts, pool-connection.ts, pool-request.ts) over real sockets, against a peer
 * that writes exact bytes: keep-alive and its limits, request framing on the wire, and every way an
 * exchange can end; each read as 'data' events and through the sidecar's shared read buffer.
 */
for (const mode of READ_MODES) describe(`http1/pool: HTTP/1.1 to a peer over real sockets (${mode})`, function () {
  this.timeout(10_000);
  let peer: RawPeer;
  let pools: H1Pool[];
  const pool = (options: Parameters<typeof plainPool>[1] = {}): ReturnType<typeof plainPool> => {
    const p = plainPool(peer.port, options, mode);
    pools.push(p);
    return p;
  };

  beforeEach(async () => {
    peer = new RawPeer();
    pools = [];
    await peer.listen();
  });
  afterEach(async () => {
    await Promise.all(pools.map((p) => p.destroy()));
    await peer.close();
  });

  describe('keep-alive', () => {
    it('carries sequential requests on one connection', async () => {
      const p = pool();
      for (const path of ['/a', '/b', '/c']) expect((await send(p, { path })).text).to.equal('ok');
      expect(peer.connections).to.have.length(1);
      expect(peer.connections[0]?.requests.map(pathOf)).to.deep.equal(['/a', '/b', '/c']);
      expect(p.connections).to.equal(1);
    });

    it('opens one connection per concurrent request', async () => {
      const p = pool();
      const answers: RawConnection[] = [];
      peer.answer = (_r, c) => {
        answers.push(c);
        if (answers.length === 4) for (const a of answers) ok(a);
      };
      const handlers = await Promise.all([1, 2, 3, 4].map((i) => send(p, { path: `/${i}` })));
      expect(handlers.map((h) => h.text)).to.deep.equal(['ok', 'ok', 'ok', 'ok']);
      expect(peer.connections).to.have.length(4);
    });

    it('opens at most two connections at once: a burst waits for those it has instead of a handshake each', async () => {
      let opening = 0;
      let most = 0;
      let opened = 0;
      // Connections that take 50 ms to open, as a TLS handshake on a busy host may.
      const p = pool({
        connect: (callback) => {
          opening += 1;
          opened += 1;
          most = Math.max(most, opening);
          const socket = netConnect(peer.port, '127.0.0.1');
          socket.once('connect', () =>
            setTimeout(() => {
              opening -= 1;
              callback(null, socket);
            }, 50),
          );
        },
      });
      peer.answer = (r, c) => ok(c, pathOf(r));
      const paths = Array.from({ length: 12 }, (_, i) => `/${i}`);
      const handlers = await Promise.all(paths.map((path) => send(p, { path })));
      expect(handlers.map((h) => h.text)).to.deep.equal(paths);
      expect(most, 'connections opening at the same time').to.equal(2);
      expect(opened, 'fewer connections than requests: the queue was served by the open ones').to.be.below(12);
    });

    it('queues beyond maxConnections and serves the queue in order', async () => {
      const p = pool({ maxConnections: 2 });
      peer.answer = (r, c) => void setTimeout(() => ok(c, pathOf(r)), 5);
      const handlers = await Promise.all([1, 2, 3, 4, 5, 6].map((i) => send(p, { path: `/${i}` })));
      expect(handlers.map((h) => h.text)).to.deep.equal(['/1', '/2', '/3', '/4', '/5', '/6']);
      expect(peer.connections).to.have.length(2);
      expect(peer.lines.length).to.equal(6);
      const order = peer.connections.flatMap((c) => c.requests.map(pathOf)).sort();
      expect(order).to.deep.equal(['/1', '/2', '/3', '/4', '/5', '/6']);
    });

    it('does not reuse a connection answered with Connection: close', async () => {
      const p = pool();
      peer.answer = (_r, c) => ok(c, 'ok', 'Connection: close\r\n');
      await send(p);
      await send(p);
      expect(peer.connections).to.have.length(2);
    });

    it('closes idle connections after keepAliveMs (the sweep runs each second)', async () => {
      const p = pool({ keepAliveMs: 200 });
      await send(p);
      expect(p.connections).to.equal(1);
      await waitFor('the idle connection closed', () => peer.connections[0]?.closed, 3000);
      expect(p.connections).to.equal(0);
      await send(p);
      expect(peer.connections).to.have.length(2);
    });

    it('counts an idle connection\'s age by the clock, not by sweeps: a stalled event loop does not lengthen it', async () => {
      const p = pool({ keepAliveMs: 2000 });
      await send(p);
      const stalled = Date.now() + 2500;
      while (Date.now() < stalled); // the event loop stalls: the sweeps due meanwhile are skipped
      await waitFor('the idle connection closed at the first sweep after the stall', () => peer.connections[0]?.closed, 900);
    });

    it('closes idle connections whose peer keeps its half of the connection open', async () => {
      await peer.close();
      peer = new RawPeer({ allowHalfOpen: true });
      await peer.listen();
      const p = pool({ keepAliveMs: 200 });
      await send(p);
      await waitFor('the idle connection gone from the pool', () => p.connections === 0, 3000);
      await send(p);
      await p.close();
      expect(p.connections).to.equal(0);
    });

    it('closes an idle connection before the peer\'s own Keep-Alive timeout', async () => {
      const p = pool({ keepAliveMs: 60_000 });
      peer.answer = (_r, c) => ok(c, 'ok', 'Keep-Alive: timeout=2\r\n');
      const started = Date.now();
      await send(p);
      await waitFor('the idle connection closed', () => peer.connections[0]?.closed, 4000);
      expect(Date.now() - started, 'closed by us before the 2 s the peer allows').to.be.below(2000);
    });

    it('does not reuse a connection whose peer allows it no longer than the margin (Keep-Alive: timeout=1)', async () => {
      const p = pool();
      peer.answer = (_r, c) => ok(c, 'ok', 'Keep-Alive: timeout=1\r\n');
      await send(p);
      await send(p);
      expect(peer.connections).to.have.length(2);
    });
  });

  describe('responses', () => {
    it('reads a response without length to the close, and does not reuse its connection', async () => {
      const p = pool();
      peer.answer = (_r, c) => {
        c.socket.write('HTTP/1.1 200 OK\r\n\r\nfirst ');
        setTimeout(() => c.socket.end('and last'), 20);
      };
      const h = await send(p);
      expect(h.events).to.deep.equal(['request', 'start 200', 'end']);
      expect(h.text).to.equal('first and last');
      peer.answer = (_r, c) => ok(c);
      await send(p);
      expect(peer.connections).to.have.length(2);
    });

    it('hands a chunked response\'s trailers to onResponseEnd', async () => {
      const p = pool();
      peer.answer = (_r, c) => {
        c.socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: x-sum\r\n\r\n3;x=y\r\nabc\r\n');
        setTimeout(() => c.socket.write('2\r\nde\r\n0\r\nX-Sum: 42\r\n\r\n'), 10);
      };
      const h = await send(p);
      expect(h.text).to.equal('abcde');
      expect(h.trailers).to.deep.equal({ 'x-sum': '42' });
      await send(p);
      expect(peer.connections, 'reused after a chunked answer').to.have.length(1);
    });

    it('reads no body for HEAD, whatever Content-Length says, and reuses the connection', async () => {
      const p = pool();
      peer.answer = (r, c) => (r.startsWith('HEAD') ? c.socket.write('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n') : ok(c, 'after'));
      const h = await send(p, { method: 'HEAD' });
      expect(h.events).to.deep.equal(['request', 'start 200', 'end']);
      expect(h.headers['content-length']).to.equal('1000');
      expect((await send(p)).text).to.equal('after');
      expect(peer.connections).to.have.length(1);
    });

    it('skips 100 Continue and hands up the 200 that follows', async () => {
      const p = pool();
      peer.answer = (_r, c) => {
        c.socket.write('HTTP/1.1 100 Continue\r\n\r\n');
        setTimeout(() => ok(c, 'final'), 10);
      };
      const h = await send(p, { method: 'POST', body: Buffer.from('x') });
      expect(h.events, 'informational answers are not handed up, as undici does').to.deep.equal(['request', 'start 200', 'end']);
      expect(h.text).to.equal('final');
    });

    it('hands up a header named like an inherited object member', async () => {
      const p = pool();
      peer.answer = (_r, c) => ok(c, 'ok', 'Constructor: a\r\ntoString: b\r\n');
      const h = await send(p);
      expect(h.headers['constructor']).to.equal('a');
      expect(h.headers['tostring']).to.equal('b');
    });

    it('fails a malformed response with onResponseError and closes its connection', async () => {
      const p = pool();
      peer.answer = (_r, c) => c.socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok');
      const h = await send(p);
      expect(h.events).to.deep.equal(['request', 'error']);
      expect(h.error?.code).to.equal('WEFT_UPSTREAM_SOCKET');
      await waitFor('the connection closed', () => peer.connections[0]?.closed);
    });

    it('fails with onResponseError when the peer resets mid-body', async () => {
      const p = pool();
      peer.answer = (_r, c) => {
        c.socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npart');
        setTimeout(() => c.socket.resetAndDestroy(), 20);
      };
      const h = await send(p);
      expect(h.events).to.deep.equal(['request', 'start 200', 'error']);
      expect(h.text).to.equal('part');
    });

    it('fails with onResponseError when the peer closes before answering', async () => {
      const p = pool();
      peer.answer = (_r, c) => c.socket.end();
      const h = await send(p);
      expect(h.events).to.deep.equal(['request', 'error']);
    });

    it('does not hand bytes beyond a response to the next request on the connection', async () => {
      const p = pool({ maxConnections: 1 });
      peer.answer = (r, c) => {
        // One write: the answer and an extra response nobody asked for.
        if (pathOf(r) === '/first') c.socket.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirstHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nbogus');
        else ok(c, 'second');
      };
      const first = new RecordingHandler();
      const second = new RecordingHandler();
      p.dispatch({ method: 'GET', path: '/first', headers: {} }, first);
      p.dispatch({ method: 'GET', path: '/second', headers: {} }, second);
      await Promise.all([first.done, second.done]);
      expect(first.text).to.equal('first');
      expect(second.text, 'the answer to the second request, not the peer\'s extra one').to.equal('second');
    });

    it('closes a connection on which bytes arrive while no request is on it, and serves the next request on another', async () => {
      const p = pool();
      peer.answer = (_r, c) => {
        ok(c);
        setTimeout(() => c.socket.write('\r\n'), 10); // a stray empty line after the answer
      };
      await send(p);
      await waitFor('the connection closed', () => peer.connections[0]?.closed);
      const h = await send(p);
      expect(h.events).to.deep.equal(['request', 'start 200', 'end']);
      expect(peer.connections).to.have.length(2);
    });

    it('times out a request whose answer does not begin within headersTimeoutMs', async () => {
      const p = pool({ headersTimeoutMs: 100 });
      peer.answer = () => undefined;
      const h = await send(p);
      expect(h.events).to.deep.equal(['request', 'error']);
      expect(h.error?.code).to.equal('WEFT_UPSTREAM_HEADERS_TIMEOUT');
    });
  });

  describe('request bodies and heads', () => {
    it('does not count an upload still streaming against headersTimeoutMs, only the wait after its last byte', async () => {
      const p = pool({ headersTimeoutMs: 1000 });
      // Three parts 900 ms apart: 1.8 s of upload, longer than the headers timeout (sweeps run each second).
      const body = new Readable({ read: () => undefined });
      let sent = 0;
      const timer = setInterval(() => {
        body.push(Buffer.from(`part${sent}`));
        if (++sent === 3) {
          body.push(null);
          clearInterval(timer);
        }
      }, 900);
      body.push(Buffer.from('start'));
      const h = await send(p, { method: 'POST', path: '/slow', body });
      clearInterval(timer);
      expect(h.error?.code, 'not cut while uploading').to.equal(undefined);
      expect(h.text).to.equal('ok');
    });

    it('fails at once, not at the headers timeout, a streamed body that had ended before it could be sent', async () => {
      const p = pool({ headersTimeoutMs: 60_000 });
      const body = Readable.from([Buffer.from('gone')]);
      body.resume(); // read by someone else: it ends before the pool writes it
      await new Promise((resolve) => body.once('end', resolve));
      const h = await send(p, { method: 'PUT', path: '/late', headers: { 'content-length': '4' }, body });
      expect(h.error?.code).to.equal('WEFT_BODY_LENGTH_MISMATCH');
    });

    it('streams a Readable body chunked when it has no content-length', async () => {
      const p = pool();
      const h = await send(p, { method: 'POST', path: '/up', body: Readable.from([Buffer.from('hello '), Buffer.from('world')]) });
      expect(h.text).to.equal('ok');
      const [request] = peer.connections[0]?.requests ?? [];
      expect(request).to.equal('POST /up HTTP/1.1\r\nhost: 127.0.0.1:' + peer.port + '\r\ntransfer-encoding: chunked\r\n\r\n6\r\nhello \r\n5\r\nworld\r\n0\r\n\r\n');
      await send(p);
      expect(peer.connections).to.have.length(1);
    });

    it('streams a Readable body as is under its content-length', async () => {
      const p = pool();
      await send(p, { method: 'PUT', path: '/up', headers: { 'content-length': '11' }, body: Readable.from([Buffer.from('hello '), Buffer.from('world')]) });
      expect(peer.connections[0]?.requests[0]).to.equal('PUT /up HTTP/1.1\r\nhost: 127.0.0.1:' + peer.port + '\r\ncontent-length: 11\r\n\r\nhello world');
    });

    it('frames a body streamed as strings by its bytes, not its characters', async () => {
      const p = pool();
      await send(p, { method: 'POST', path: '/s', body: Readable.from(['héllo ', 'wörld €']) });
      await send(p, { method: 'POST', path: '/l', headers: { 'content-length': String(Buffer.byteLength('héllo wörld €')) }, body: Readable.from(['héllo ', 'wörld €']) });
      const [chunked, sized] = peer.connections[0]?.requests ?? [];
      expect(Buffer.from(chunked ?? '', 'latin1').toString()).to.match(/\r\n\r\n7\r\nhéllo \r\na\r\nwörld €\r\n0\r\n\r\n$/);
      expect(Buffer.from(sized ?? '', 'latin1').toString()).to.match(/\r\n\r\nhéllo wörld €$/);
    });

    it('fails a Buffer body whose content-length disagrees before connecting', async () => {
      const p = pool();
      const h = await send(p, { method: 'POST', headers: { 'content-length': '3' }, body: Buffer.from('hello') });
      expect(h.error?.code).to.equal('WEFT_BODY_LENGTH_MISMATCH');
      expect(p.connects).to.equal(0);
    });

    it('fails a header value with CR or LF, and a name that is no token, before connecting', async () => {
      const p = pool();
      for (const headers of [{ 'x-a': 'b\r\nx-smuggled: 1' }, { 'x-a': 'b\nc' }, { 'x-a': 'b\rc' }, { 'x a': 'b' }, { 'x-a': ['ok', 'b\r\nc'] }]) {
        const h = await send(p, { headers });
        expect(h.error?.code, JSON.stringify(headers)).to.equal('WEFT_INVALID_HEADER');
      }
      expect(p.connects).to.equal(0);
    });

    it('fails a method that is no token (a request line it would let one write another) before connecting', async () => {
      const p = pool();
      for (const method of ['GET / HTTP/1.1\r\nx-smuggled: 1\r\n\r\nGET', 'GE T', '']) {
        const h = await send(p, { method: method as 'GET' });
        expect(h.error?.code, JSON.stringify(method)).to.equal('WEFT_INVALID_HEADER');
      }
      expect(p.connects).to.equal(0);
    });

    it('writes framing fields once, whatever their case in the given headers', async () => {
      const p = pool();
      await send(p, { method: 'POST', path: '/a', headers: { 'Content-Length': '5', Host: 'orders', Connection: 'close', 'Transfer-Encoding': 'chunked' }, body: Buffer.from('hello') });
      const [request] = peer.connections[0]?.requests ?? [];
      const names = (request ?? '').split('\r\n\r\n')[0]?.split('\r\n').slice(1).map((l) => l.slice(0, l.indexOf(':')).toLowerCase());
      expect(names?.sort()).to.deep.equal(['content-length', 'host']);
    });

    it('closes a connection whose streamed body ended short of its content-length', async () => {
      const p = pool();
      peer.answer = () => undefined;
      const h = await send(p, { method: 'POST', headers: { 'content-length': '10' }, body: Readable.from([Buffer.from('short')]) });
      expect(h.error?.code).to.equal('WEFT_BODY_LENGTH_MISMATCH');
      await waitFor('the connection closed', () => peer.connections[0]?.closed);
    });
  });

  describe('the controller and the pool\'s end', () => {
    it('aborting mid-response calls onResponseError once and closes the connection', async () => {
      const p = pool();
      peer.answer = (_r, c) => c.socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npart');
      const h = new RecordingHandler();
      h.whenData = (_chunk, controller) => controller.abort(new Error('client left'));
      await send(p, {}, h);
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(h.events).to.deep.equal(['request', 'start 200', 'error']);
      expect(h.error?.message).to.equal('client left');
      await waitFor('the connection closed', () => peer.connections[0]?.closed);
      peer.answer = (_r, c) => ok(c);
      await send(p);
      expect(peer.connections).to.have.length(2);
    });

    it('pauses reading while the handler is slow, and delivers a large body whole', async () => {
      const p = pool();
      const size = 8 * 1024 * 1024;
      const body = Buffer.alloc(size, 'x');
      peer.answer = (_r, c) => c.socket.write(Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${size}\r\n\r\n`), body]));
      const h = new RecordingHandler();
      let pauses = 0;
      const chunks: Buffer[] = [];
      h.whenData = (chunk, controller) => {
        chunks.push(chunk);
        if (chunks.length % 4 === 0) {
          pauses++;
          controller.pause();
          setTimeout(() => controller.resume(), 2);
        }
      };
      await send(p, {}, h);
      peer.answer = (_r, c) => ok(c);
      expect(h.body.length).to.equal(size);
      expect(pauses).to.be.above(0);
      expect((await send(p)).text, 'the connection flows again for the next answer').to.equal('ok');
      expect(peer.connections).to.have.length(1);
    });

    it('a request abandoned while queued (onRequestStart throws) leaves the connection usable', async () => {
      const p = pool({ maxConnections: 1 });
      peer.answer = (r, c) => void setTimeout(() => ok(c, pathOf(r)), 10);
      const first = new RecordingHandler();
      const abandoned = new RecordingHandler();
      abandoned.refuse = new Error('gone');
      const third = new RecordingHandler();
      for (const [path, h] of [['/1', first], ['/2', abandoned], ['/3', third]] as const) p.dispatch({ method: 'GET', path, headers: {} }, h);
      await Promise.all([first.done, third.done]);
      expect([first.text, third.text]).to.deep.equal(['/1', '/3']);
      expect(abandoned.events).to.deep.equal(['request']);
      expect(peer.lines).to.deep.equal(['GET /1', 'GET /3']);
      expect(peer.connections).to.have.length(1);
    });

    it('a request aborted from its onRequestStart is not written, fails once, and leaves the connection usable', async () => {
      const p = pool({ maxConnections: 1 });
      await send(p, { path: '/warm' });
      const h = new RecordingHandler();
      const start = h.onRequestStart.bind(h);
      h.onRequestStart = (controller) => {
        start(controller);
        controller.abort(new Error('no longer wanted'));
      };
      await send(p, { path: '/aborted' }, h);
      expect(h.events).to.deep.equal(['request', 'error']);
      expect(h.error?.message).to.equal('no longer wanted');
      expect((await send(p, { path: '/after' })).text).to.equal('ok');
      expect(peer.lines).to.deep.equal(['GET /warm', 'GET /after']);
      expect(peer.connections).to.have.length(1);
    });

    it('close() waits for the requests in flight and queued, then closes every connection', async () => {
      const p = pool({ maxConnections: 1 });
      peer.answer = (r, c) => void setTimeout(() => ok(c, pathOf(r)), 30);
      const a = new RecordingHandler();
      const b = new RecordingHandler();
      p.dispatch({ method: 'GET', path: '/a', headers: {} }, a);
      p.dispatch({ method: 'GET', path: '/b', headers: {} }, b);
      await p.close();
      expect([a.text, b.text]).to.deep.equal(['/a', '/b']);
      expect(p.connections).to.equal(0);
      const late = await send(p);
      expect(late.error?.code).to.equal('WEFT_POOL_CLOSED');
      await waitFor('the connection closed', () => peer.connections[0]?.closed);
    });

    it('destroy() fails the requests in flight and queued', async () => {
      const p = pool({ maxConnections: 1 });
      peer.answer = () => undefined;
      const a = new RecordingHandler();
      const b = new RecordingHandler();
      p.dispatch({ method: 'GET', path: '/a', headers: {} }, a);
      p.dispatch({ method: 'GET', path: '/b', headers: {} }, b);
      await waitFor('the first request arrived', () => peer.lines.length === 1);
      await p.destroy();
      await Promise.all([a.done, b.done]);
      expect([a.events, b.events]).to.deep.equal([['request', 'error'], ['error']]);
      expect([a.error?.code, b.error?.code]).to.deep.equal(['WEFT_POOL_CLOSED', 'WEFT_POOL_CLOSED']);
      expect(p.connections).to.equal(0);
    });
  });
});
