import type { Socket } from 'node:net';
import type { HttpProtocol } from '../http/downstream';

/** The fixed start of every HTTP/2 connection with prior knowledge (RFC 9113 3.4). */
export const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/** The first byte of a TLS record carrying a handshake (a ClientHello opens every TLS connection). */
export const TLS_HANDSHAKE_BYTE = 0x16;

/**
 * HTTP/2 when the bytes so far are the HTTP/2 preface, HTTP/1.1 as soon as they stop being one,
 * undefined while the preface is still incomplete. No HTTP/1.1 request line starts with `PRI *`.
 */
export function httpProtocolOf(head: Buffer): HttpProtocol | undefined {
  const n = Math.min(head.length, H2_PREFACE.length);
  if (!head.subarray(0, n).equals(H2_PREFACE.subarray(0, n))) return 'http1';
  return head.length >= H2_PREFACE.length ? 'h2' : undefined;
}

/**
 * Reads a new connection's first bytes until `decide` can name its protocol (undefined: it needs
 * more), then puts them back, so that whoever the socket is handed to reads them again. Node has
 * no MSG_PEEK; unshift is its equivalent. Resolves undefined, with the socket destroyed, when
 * nothing decisive arrives within `timeoutMs` (an idle or slow client) or the client leaves; with
 * `silent` given, a client that says nothing within `timeoutMs` resolves that instead (a protocol
 * whose server speaks first, on a captured connection).
 */
export function sniff<T>(socket: Socket, decide: (head: Buffer) => T | undefined, timeoutMs: number, silent?: T): Promise<T | undefined> {
  return new Promise((resolve) => {
    let head: Buffer = Buffer.alloc(0);
    const settle = (result: T | undefined): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onGone);
      socket.off('close', onGone);
      socket.off('error', onGone);
      if (result === undefined) socket.destroy();
      else {
        socket.pause();
        socket.unshift(head);
      }
      resolve(result);
    };
    const onData = (chunk: Buffer): void => {
      head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
      const result = decide(head);
      if (result !== undefined) settle(result);
    };
    const onGone = (): void => settle(undefined);
    const timer = setTimeout(() => settle(head.length === 0 ? silent : undefined), timeoutMs);
    socket.on('data', onData);
    socket.once('end', onGone);
    socket.once('close', onGone);
    socket.once('error', onGone);
  });
}

/** HTTP methods an HTTP/1.1 request line may start with (RFC 9110 9.3, and PATCH). */
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'TRACE', 'PATCH', 'CONNECT'].map((m) => Buffer.from(`${m} `, 'latin1'));

/**
 * For a captured connection, which may carry anything: HTTP/2 (its preface), HTTP/1.1 (a request
 * line's method), or other TCP as soon as the bytes can be neither. Undefined while undecided.
 */
export function capturedProtocolOf(head: Buffer): HttpProtocol | 'tcp' | undefined {
  const h2 = httpProtocolOf(head);
  if (h2 !== 'http1') return h2;
  let partial = false;
  for (const m of METHODS) {
    const n = Math.min(head.length, m.length);
    if (head.subarray(0, n).equals(m.subarray(0, n))) {
      if (n === m.length) return 'http1';
      partial = true;
    }
  }
  return partial ? undefined : 'tcp';
}
