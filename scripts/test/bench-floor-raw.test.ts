import { expect } from 'chai';
import * as fs from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { findFreePorts, ProcessGroup } from '@weft/harness';
import { makePairCerts } from '../bench/certs';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/**
 * Sends `pieces` on one connection with a pause between them (so that each arrives as a chunk of
 * its own; a long pause lets the answer to one piece come before the next is sent) and returns the text received once `responses` complete responses are in.
 */
async function exchange(port: number, pieces: readonly string[], responses: number, pauseMs = 40): Promise<string> {
  const socket = net.connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  let received = '';
  const done = new Promise<string>((resolve, reject) => {
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      if (completeResponses(received) >= responses) resolve(received);
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(received));
  });
  try {
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    for (const piece of pieces) {
      socket.write(piece);
      await sleep(pauseMs);
    }
    return await done;
  } finally {
    socket.destroy();
  }
}

function completeResponses(text: string): number {
  let count = 0;
  let at = 0;
  for (;;) {
    const end = text.indexOf('\r\n\r\n', at);
    if (end < 0) return count;
    const length = Number(/\r\ncontent-length: *(\d+)/i.exec(text.slice(at, end))?.[1] ?? 0);
    if (text.length < end + 4 + length) return count;
    count += 1;
    at = end + 4 + length;
  }
}

describe('raw floor proxy pair (floor-raw-proxy.ts)', function () {
  this.timeout(30_000);
  const group = new ProcessGroup();
  const seen: Seen[] = [];
  let dir: string;
  let app: Server;
  let port: number;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weft-raw-floor-'));
    const certs = makePairCerts(path.join(dir, 'certs'));
    app = createServer((req, res) => {
      let body = '';
      req.setEncoding('latin1');
      req.on('data', (chunk: string) => (body += chunk));
      req.on('end', () => {
        seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
        if (req.url === '/late-body') {
          // The head leaves alone; the body follows in a later write, so it reaches both proxies as a chunk of its own.
          res.writeHead(200, { 'content-length': '11', 'x-late': 'yes' });
          res.flushHeaders();
          setTimeout(() => res.end('hello world'), 60);
        } else if (req.url === '/split-head') {
          // Bytes straight on the socket, to cut the response head in the middle of a header.
          req.socket.write('HTTP/1.1 200 OK\r\nContent-Le');
          setTimeout(() => req.socket.write('ngth: 4\r\nX-Split: yes\r\n\r\nab'), 60);
          setTimeout(() => req.socket.end('cd'), 120);
        } else {
          res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(body.length + 6) });
          res.end(`echo: ${body}`);
        }
      });
    });
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
    const appPort = (app.address() as net.AddressInfo).port;
    const [clientPort, serverPort] = (await findFreePorts(2)) as [number, number];
    const script = path.join(__dirname, '..', 'bench', 'floor-raw-proxy.js');
    const certDir = path.dirname(certs.ca);
    const server = group.spawn({ name: 'raw-server', script, args: ['server', String(serverPort), String(appPort), certDir] });
    const client = group.spawn({ name: 'raw-client', script, args: ['client', String(clientPort), String(serverPort), certDir] });
    for (const proc of [server, client]) await group.waitForLog(proc, (e) => e['msg'] === 'listening', 10_000);
    port = clientPort;
  });

  after(async () => {
    await group.stopAll(3_000);
    app.closeAllConnections();
    await new Promise<void>((resolve) => app.close(() => resolve()));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(() => void (seen.length = 0));

  it('reads a request head split in the middle of a header, drops hop-by-hop headers, and returns the response whole', async () => {
    const text = await exchange(port, ['GET /a?b=1 HTTP/1.1\r\nHost: web\r\nX-Sp', 'lit: one two\r\nConnection: keep-alive\r\n', '\r\n'], 1);
    expect(text).to.match(/^HTTP\/1\.1 200 OK\r\n/);
    expect(text).to.match(/\r\ncontent-length: 6\r\n/i);
    expect(text.endsWith('\r\n\r\necho: ')).to.equal(true);
    expect(seen).to.have.length(1);
    expect(seen[0]).to.include({ method: 'GET', url: '/a?b=1', body: '' });
    expect(seen[0]?.headers).to.include({ host: 'web', 'x-split': 'one two' });
    // node:http reports what the peer sent; keep-alive is its default for HTTP/1.1, so no header was forwarded.
    expect(seen[0]?.headers).not.to.have.property('connection');
  });

  it('forwards a Content-Length body that arrives apart from its head, and two requests in one write in order', async () => {
    // Nothing follows the body: a proxy that took it for the start of the next head would wait forever.
    const post = await exchange(port, ['POST /upload HTTP/1.1\r\nHost: web\r\nContent-Length: 11\r\n\r\n', 'hello', ' world'], 1);
    expect(post).to.match(/^HTTP\/1\.1 200 OK\r\n/);
    expect(post.endsWith('\r\n\r\necho: hello world')).to.equal(true);
    const text = await exchange(port, ['GET /1 HTTP/1.1\r\nHost: web\r\n\r\nGET /2 HTTP/1.1\r\nHost: web\r\n\r\n'], 2);
    expect(seen.map((s) => `${s.method} ${s.url} ${s.body}`)).to.deep.equal(['POST /upload hello world', 'GET /1 ', 'GET /2 ']);
    expect(text.split('HTTP/1.1 200 OK')).to.have.length(3);
  });

  it('forwards a response body that arrives apart from its head, and a response head split in a header', async () => {
    const late = await exchange(port, ['GET /late-body HTTP/1.1\r\nHost: web\r\n\r\n'], 1);
    expect(late).to.match(/\r\nx-late: yes\r\n/i);
    expect(late.endsWith('\r\n\r\nhello world')).to.equal(true);
    const split = await exchange(port, ['GET /split-head HTTP/1.1\r\nHost: web\r\n\r\n'], 1);
    expect(split).to.equal('HTTP/1.1 200 OK\r\nContent-Length: 4\r\nX-Split: yes\r\n\r\nabcd');
  });

  it('keeps answering on the same connection after the app closed its end (a new upstream connection)', async () => {
    const text = await exchange(port, ['GET /split-head HTTP/1.1\r\nHost: web\r\n\r\n', 'GET /after HTTP/1.1\r\nHost: web\r\n\r\n'], 2, 400);
    expect(text).to.contain('abcdHTTP/1.1 200 OK');
    expect(seen.map((s) => s.url)).to.deep.equal(['/split-head', '/after']);
  });

  it('refuses a Transfer-Encoding request with 501, and the app never sees it', async () => {
    const text = await exchange(port, ['POST /chunked HTTP/1.1\r\nHost: web\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n'], 1);
    expect(text).to.match(/^HTTP\/1\.1 501 Not Implemented\r\n/);
    expect(seen).to.have.length(0);
  });
});
