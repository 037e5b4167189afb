/**
 * Raw HTTP/1.1 over TCP or mTLS, byte for byte, for requests no well-behaved client would send
 * (smuggling, oversized or invalid headers, headers trickled in one byte at a time); and HTTP/2
 * requests beyond what a polite client sends (thousands of headers, a body that stalls).
 */
import * as http2 from 'node:http2';
import * as net from 'node:net';
import * as tls from 'node:tls';

export interface RawOutcome {
  /** Everything the server sent, as latin1 text. */
  readonly data: string;
  /** The status code of the first response, or 0 if none came. */
  readonly status: number;
  /** How the exchange ended: the server closed the connection, or we gave up waiting. */
  readonly ended: 'closed' | 'timeout';
  readonly elapsedMs: number;
}

/** Where to connect: a plain port (outbound) or an mTLS port with a client certificate (inbound). */
export type RawTarget =
  | { readonly kind: 'tcp'; readonly port: number }
  | { readonly kind: 'tls'; readonly port: number; readonly caPem: string; readonly certificatePem: string; readonly privateKeyPem: string };

function connect(target: RawTarget): net.Socket {
  if (target.kind === 'tcp') return net.connect(target.port, '127.0.0.1');
  return tls.connect({
    host: '127.0.0.1',
    port: target.port,
    ca: target.caPem,
    cert: target.certificatePem,
    key: target.privateKeyPem,
    // The peer is a sidecar whose certificate names a SPIFFE ID, not a host.
    checkServerIdentity: () => undefined,
  });
}

/**
 * Sends `bytes` (as soon as the connection is up; for TLS, after the handshake) and collects the
 * answer until the server closes the connection or `waitMs` passes. With `trickleMs`, the bytes
 * go one at a time, `trickleMs` apart, for as long as the connection stays open (slow-loris);
 * the first `trickleAfter` bytes (default none) go at once.
 */
export function rawExchange(target: RawTarget, bytes: string | Buffer, options: { waitMs?: number; trickleMs?: number; trickleAfter?: number } = {}): Promise<RawOutcome> {
  const started = Date.now();
  const payload = typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes;
  return new Promise((resolve) => {
    const socket = connect(target);
    let data = '';
    let timer: NodeJS.Timeout | undefined;
    let trickle: NodeJS.Timeout | undefined;
    const finish = (ended: RawOutcome['ended']): void => {
      clearTimeout(timer);
      clearInterval(trickle);
      socket.destroy();
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(data);
      resolve({ data, status: m ? Number(m[1]) : 0, ended, elapsedMs: Date.now() - started });
    };
    socket.once(target.kind === 'tls' ? 'secureConnect' : 'connect', () => {
      if (!options.trickleMs) {
        socket.write(payload);
        return;
      }
      let i = options.trickleAfter ?? 0;
      if (i > 0) socket.write(payload.subarray(0, i));
      trickle = setInterval(() => {
        if (i < payload.length && socket.writable) socket.write(payload.subarray(i, ++i));
      }, options.trickleMs);
    });
    socket.on('data', (d: Buffer) => (data += d.toString('latin1')));
    socket.on('close', () => finish('closed'));
    socket.on('error', () => undefined); // a reset after the answer is an ending like any other
    timer = setTimeout(() => finish('timeout'), options.waitMs ?? 5_000);
  });
}

/** The body of the first response in `data`, de-chunked when it came with chunked framing. */
export function bodyOf(data: string): string {
  const split = data.indexOf('\r\n\r\n');
  const head = data.slice(0, split).toLowerCase();
  let rest = data.slice(split + 4);
  if (!/\r\ntransfer-encoding:\s*chunked/.test(head)) return rest;
  let body = '';
  for (;;) {
    const eol = rest.indexOf('\r\n');
    const size = parseInt(rest.slice(0, eol), 16);
    if (!(size > 0)) return body;
    body += rest.slice(eol + 2, eol + 2 + size);
    rest = rest.slice(eol + 2 + size + 2);
  }
}

export interface H2Outcome {
  /** `:status` of the response, or 0 if none came. */
  readonly status: number;
  readonly headers: http2.IncomingHttpHeaders;
  readonly body: string;
  /** The RST_STREAM code the stream ended with (0 after a clean end), or the session's error code. */
  readonly rstCode: number | string;
  readonly elapsedMs: number;
}

/**
 * One HTTP/2 request over h2c (tcp) or TLS with ALPN h2 (tls), from a client that lets itself
 * send header lists of any size. `body` chunks go `everyMs` apart; with `stall`, the stream is
 * left open after them (a body that stops arriving). Resolves when the stream closes or after `waitMs`.
 */
export function h2Exchange(
  target: RawTarget,
  headers: http2.OutgoingHttpHeaders,
  options: { body?: readonly string[]; everyMs?: number; stall?: boolean; waitMs?: number } = {},
): Promise<H2Outcome> {
  const started = Date.now();
  const settings = { maxSendHeaderBlockLength: 4 * 1024 * 1024, maxHeaderListPairs: 10_000 };
  const session =
    target.kind === 'tcp'
      ? http2.connect(`http://127.0.0.1:${target.port}`, settings)
      : http2.connect(`https://127.0.0.1:${target.port}`, {
          ...settings,
          ca: target.caPem,
          cert: target.certificatePem,
          key: target.privateKeyPem,
          ALPNProtocols: ['h2'],
          checkServerIdentity: () => undefined,
        });
  return new Promise((resolve) => {
    let status = 0;
    let got: http2.IncomingHttpHeaders = {};
    let body = '';
    let timer: NodeJS.Timeout | undefined;
    let sender: NodeJS.Timeout | undefined;
    const finish = (rstCode: number | string): void => {
      clearTimeout(timer);
      clearInterval(sender);
      session.destroy();
      resolve({ status, headers: got, body, rstCode, elapsedMs: Date.now() - started });
    };
    session.on('error', (err: NodeJS.ErrnoException) => finish(err.code ?? err.message));
    const chunks = [...(options.body ?? [])];
    const stream = session.request(headers, { endStream: options.body === undefined });
    stream.on('response', (h) => {
      got = h;
      status = Number(h[':status']);
    });
    stream.on('data', (d: Buffer) => (body += d.toString()));
    stream.on('error', () => undefined);
    stream.on('close', () => finish(stream.rstCode ?? 0));
    if (options.body !== undefined) {
      sender = setInterval(() => {
        const next = chunks.shift();
        if (next !== undefined) stream.write(next);
        else if (!options.stall) stream.end();
        if (next === undefined) clearInterval(sender);
      }, options.everyMs ?? 0);
    }
    timer = setTimeout(() => finish('timeout'), options.waitMs ?? 10_000);
  });
}
