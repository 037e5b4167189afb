/**
 * Raw HTTP/1.1 over TCP or mTLS, byte for byte, for requests no well-behaved client would send
 * (smuggling, oversized or invalid headers, headers trickled in one byte at a time).
 */
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
 * go one at a time, `trickleMs` apart, for as long as the connection stays open (slow-loris).
 */
export function rawExchange(target: RawTarget, bytes: string | Buffer, options: { waitMs?: number; trickleMs?: number } = {}): Promise<RawOutcome> {
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
      let i = 0;
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
