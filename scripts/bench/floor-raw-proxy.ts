/**
 * A floor below node:http and undici: the two roles of floor-proxy.ts (client: plain HTTP/1.1 in,
 * TLS 1.3 mTLS out to the peer; server: mTLS in, plain HTTP/1.1 out to the app) on node:net and
 * node:tls sockets with a minimal HTTP/1.1 codec of its own. `npm run bench:floor -- --raw` runs
 * it next to floor-proxy.ts and the Weft pair, to price what node:http and undici themselves cost
 * per request, i.e. what a Node.js data path with its own codec could reach. A measuring stick,
 * not a proxy anyone should deploy; what it leaves out is left out on purpose:
 * - Requests: the request line and headers are parsed from the socket's chunks (a head may be
 *   split anywhere), hop-by-hop headers are dropped, Content-Length bodies are forwarded as they
 *   arrive. Transfer-Encoding requests are refused with 501: a floor need not de-chunk.
 *   Pipelined requests are forwarded in order on the same upstream connection.
 * - Responses: parsed the same way; Content-Length bodies only (nginx's static files and the peer
 *   proxy always send one). A chunked or read-until-close response ends the exchange with a 502.
 * - Connections: each downstream connection is bound to one upstream connection for its life,
 *   taken from a shared idle list or opened for its first request, and put back on the list when
 *   the downstream closes between requests. Under wrk -c32 that is 32 upstream connections, as
 *   undici's Pool opens for 32 concurrent requests; at a fixed rate, new downstream connections
 *   reuse idle upstream ones, as the Pool's do. An upstream that says `Connection: close` is
 *   replaced on the next request.
 * - No timeouts, no limits beyond a 64 KiB head, no TLS session cache (steady state reconnects
 *   nothing). TLS exactly as floor-proxy.ts: 1.3 only, client certificates, verified both ways.
 *
 * `node floor-raw-proxy.js client LISTEN_PORT PEER_PORT CERT_DIR` (plain in, mTLS out) or
 * `node floor-raw-proxy.js server LISTEN_PORT APP_PORT CERT_DIR` (mTLS in, plain out).
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import * as tls from 'node:tls';

const HEAD_END = Buffer.from('\r\n\r\n');
const MAX_HEAD = 64 * 1024;

/** Who a MessageReader reports to: the side that forwards what it reads. */
interface Sink {
  /** A head was parsed (see the reader's fields): how many body bytes follow, or -1 to stop reading. */
  bodyLength(reader: MessageReader): number;
  /** The head as forwarded (hop-by-hop headers removed) with as much of its body as came with it. */
  onHead(bytes: Buffer): void;
  onBody(chunk: Buffer): void;
  onEnd(): void;
}

/** Finds message heads and Content-Length bodies in a socket's chunks. */
class MessageReader {
  // What the last head said, kept in fields so that no object is made per message.
  firstLine = '';
  contentLength = -1; // -1: no Content-Length header
  chunked = false;
  close = false;
  malformed = false;
  #pending: Buffer | null = null; // the start of a head whose end has not arrived
  #bodyLeft = 0;
  #stopped = false;
  /** Offsets (start, end) of the last head's lines to drop, from the head's first byte. */
  readonly #drop: number[] = [];

  constructor(private readonly sink: Sink) {}

  push(chunk: Buffer): void {
    let buf = chunk;
    if (this.#pending) {
      buf = Buffer.concat([this.#pending, chunk]);
      this.#pending = null;
    }
    let at = 0;
    while (at < buf.length && !this.#stopped) {
      if (this.#bodyLeft > 0) {
        const n = Math.min(this.#bodyLeft, buf.length - at);
        this.#bodyLeft -= n;
        this.sink.onBody(at === 0 && n === buf.length ? buf : buf.subarray(at, at + n));
        at += n;
        if (this.#bodyLeft === 0) this.sink.onEnd();
        continue;
      }
      const end = buf.indexOf(HEAD_END, at);
      if (end < 0 && buf.length - at <= MAX_HEAD) {
        this.#pending = buf.subarray(at);
        return;
      }
      if (end < 0) this.malformed = true;
      else this.#parse(buf.toString('latin1', at, end));
      const length = this.sink.bodyLength(this);
      if (length < 0) {
        this.#stopped = true;
        return;
      }
      const headEnd = end + 4;
      const part = Math.min(length, buf.length - headEnd);
      this.sink.onHead(this.#assemble(buf, at, headEnd, part));
      at = headEnd + part;
      this.#bodyLeft = length - part;
      if (this.#bodyLeft === 0) this.sink.onEnd();
    }
  }

  #parse(text: string): void {
    this.contentLength = -1;
    this.chunked = this.close = this.malformed = false;
    this.#drop.length = 0;
    let eol = text.indexOf('\r\n');
    this.firstLine = eol < 0 ? text : text.slice(0, eol);
    while (eol >= 0) {
      const start = eol + 2;
      eol = text.indexOf('\r\n', start);
      const stop = eol < 0 ? text.length : eol;
      const colon = text.indexOf(':', start);
      if (colon < 0 || colon > stop) return void (this.malformed = true);
      // Only names of these lengths matter here; every other header passes without a string made.
      const n = colon - start;
      if (n !== 7 && n !== 10 && n !== 14 && n !== 16 && n !== 17) continue;
      const name = text.slice(start, colon).toLowerCase();
      if (name === 'content-length') {
        const value = text.slice(colon + 1, stop).trim();
        const length = digitsOnly(value) ? Number(value) : NaN;
        if (!Number.isSafeInteger(length) || (this.contentLength >= 0 && length !== this.contentLength)) return void (this.malformed = true);
        this.contentLength = length;
      } else if (name === 'transfer-encoding') {
        this.chunked = true;
      } else if (name === 'connection' || name === 'keep-alive' || name === 'proxy-connection' || name === 'upgrade') {
        if (name === 'connection' && text.slice(colon + 1, stop).toLowerCase().includes('close')) this.close = true;
        this.#drop.push(start, stop + 2); // the line and its CRLF (the last line's is the terminator's first)
      }
    }
  }

  /** The head without its dropped lines, followed by `part` body bytes: one buffer, hence one write. */
  #assemble(buf: Buffer, at: number, headEnd: number, part: number): Buffer {
    const drop = this.#drop;
    if (drop.length === 0) return buf.subarray(at, headEnd + part); // as it came: no copy
    let size = headEnd - at + part;
    for (let i = 0; i < drop.length; i += 2) size -= (drop[i + 1] as number) - (drop[i] as number);
    const out = Buffer.allocUnsafe(size);
    let from = at;
    let to = 0;
    for (let i = 0; i < drop.length; i += 2) {
      to += buf.copy(out, to, from, at + (drop[i] as number));
      from = at + (drop[i + 1] as number);
    }
    buf.copy(out, to, from, headEnd + part);
    return out;
  }
}

function digitsOnly(value: string): boolean {
  if (value.length === 0 || value.length > 15) return false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** Writes and, when the receiver is full, pauses the sender until it drains. */
function forward(bytes: Buffer, from: net.Socket, to: net.Socket): void {
  if (!to.write(bytes)) {
    from.pause();
    to.once('drain', () => from.resume());
  }
}

/** A connection to the peer proxy (client role) or the app (server role); reads responses. */
class Upstream implements Sink {
  owner: Downstream | null = null;
  reusable = true;
  #status = 0;
  readonly #reader = new MessageReader(this);

  constructor(readonly socket: net.Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#reader.push(chunk));
    socket.on('error', () => undefined); // 'close' follows and says what matters
    socket.on('close', () => {
      this.reusable = false;
      if (this.owner) return this.owner.upstreamClosed(this);
      const i = idle.indexOf(this);
      if (i >= 0) idle.splice(i, 1);
    });
  }

  bodyLength(r: MessageReader): number {
    const owner = this.owner;
    if (!owner || r.malformed || r.chunked) return this.#fail();
    this.#status = Number(r.firstLine.slice(9, 12));
    if (r.close) this.reusable = false;
    if (this.#status < 200 || this.#status === 204 || this.#status === 304 || owner.answersHead()) return 0;
    return r.contentLength >= 0 ? r.contentLength : this.#fail();
  }

  onHead(bytes: Buffer): void {
    if (this.owner) this.owner.respond(bytes, this.#status >= 200, this.socket);
  }

  onBody(chunk: Buffer): void {
    if (this.owner) forward(chunk, this.socket, this.owner.socket);
  }

  onEnd(): void {
    if (this.owner && this.#status >= 200) this.owner.responseDone();
  }

  #fail(): number {
    this.reusable = false;
    this.socket.destroy(); // 'close' tells the owner, which answers 502 or drops its client
    return -1;
  }
}

/** An accepted connection: reads requests, forwards them on its upstream, writes the responses. */
class Downstream implements Sink {
  #up: Upstream | null = null;
  readonly #heads: boolean[] = []; // per request in flight: was it a HEAD (its response has no body)
  #responding = false;
  #closeAfter = false;
  readonly #reader = new MessageReader(this);

  constructor(readonly socket: net.Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#reader.push(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => this.#release());
  }

  bodyLength(r: MessageReader): number {
    if (r.malformed) return this.#refuse('400 Bad Request');
    if (r.chunked) return this.#refuse('501 Not Implemented');
    if (r.close) this.#closeAfter = true;
    this.#heads.push(r.firstLine.startsWith('HEAD '));
    if (!this.#up) {
      this.#up = idle.pop() ?? new Upstream(connectUpstream());
      this.#up.owner = this;
    }
    return Math.max(0, r.contentLength);
  }

  onHead(bytes: Buffer): void {
    if (this.#up) forward(bytes, this.socket, this.#up.socket);
  }

  onBody(chunk: Buffer): void {
    if (this.#up) forward(chunk, this.socket, this.#up.socket);
  }

  onEnd(): void {}

  answersHead(): boolean {
    return this.#heads[0] ?? false;
  }

  respond(bytes: Buffer, final: boolean, from: net.Socket): void {
    this.#responding = final;
    forward(bytes, from, this.socket);
  }

  responseDone(): void {
    this.#heads.shift();
    this.#responding = false;
    const up = this.#up;
    if (up && !up.reusable && this.#heads.length === 0) {
      up.owner = null;
      up.socket.destroy();
      this.#up = null; // the next request opens or takes another
    }
    if (this.#closeAfter && this.#heads.length === 0) this.socket.end();
  }

  upstreamClosed(up: Upstream): void {
    if (this.#up !== up) return;
    this.#up = null;
    if (this.#heads.length === 0) return;
    if (this.#responding) this.socket.destroy();
    else this.socket.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
  }

  #refuse(status: string): number {
    if (this.#heads.length > 0) this.socket.destroy(); // an answer now would overtake the ones owed
    else this.socket.end(`HTTP/1.1 ${status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
    return -1;
  }

  #release(): void {
    const up = this.#up;
    this.#up = null;
    if (!up) return;
    if (up.reusable && this.#heads.length === 0) {
      up.owner = null;
      idle.push(up);
    } else up.socket.destroy();
  }
}

const [role, listenPort, peerPort, certDir] = process.argv.slice(2) as [string, string, string, string];
const file = (name: string): Buffer => fs.readFileSync(path.join(certDir, name));
/** Upstream connections no downstream connection holds. */
const idle: Upstream[] = [];

const clientTls = role === 'client' ? { ca: file('ca.pem'), cert: file('client.pem'), key: file('client.key') } : undefined;
function connectUpstream(): net.Socket {
  if (!clientTls) return net.connect(Number(peerPort), '127.0.0.1');
  return tls.connect({
    host: '127.0.0.1', port: Number(peerPort), ...clientTls, minVersion: 'TLSv1.3',
    checkServerIdentity: (_host, cert) => tls.checkServerIdentity('nginx-server', cert),
  });
}

function listening(): void {
  process.stdout.write(`${JSON.stringify({ msg: 'listening', role, port: Number(listenPort) })}\n`);
}

process.on('SIGTERM', () => process.exit(0));
if (role === 'client') {
  net.createServer((socket) => void new Downstream(socket)).listen(Number(listenPort), '127.0.0.1', listening);
} else {
  tls.createServer(
    { ca: file('ca.pem'), cert: file('server.pem'), key: file('server.key'), requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.3' },
    (socket) => void new Downstream(socket),
  ).listen(Number(listenPort), '127.0.0.1', listening);
}
