import { STATUS_CODES, validateHeaderName, validateHeaderValue } from 'node:http';
import type { Duplex } from 'node:stream';
import { TLSSocket } from 'node:tls';
import { HEADERS } from '@weft/api';
import type { Downstream, Outcome, RespondOptions } from './downstream';
import { ClientClosedError, type ProxyError } from '../layers/errors';
import { forwardableHeaders } from './headers';
import { discardBody, type HeaderMap, type ProxyResponse } from '../layers/service';
import { splice } from '../tcp/splice';

/** What the upgrade path reads of a request: Node's IncomingMessage, or a head Weft's codec parsed. */
export interface UpgradeRequest {
  readonly method?: string | undefined;
  readonly url?: string | undefined;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

/**
 * An HTTP/1.1 Upgrade request (WebSocket, ...) as a Downstream. It runs through the same stack as
 * any request (route, timeout, retry, authorization), with no body: bytes after the request head
 * belong to the protocol switched to. A 101 answer that brings an upstream `tunnel` is written
 * to the client's socket by hand (Node hands over the raw socket for upgrades), and from then on
 * bytes flow both ways until either side closes. Any other answer ends the connection.
 */
export function upgradeDownstream(req: UpgradeRequest, socket: Duplex, head: Buffer): Downstream {
  socket.on('error', () => undefined);
  let answered = false;
  const token = firstOf(req.headers['upgrade']) ?? '';
  return {
    protocol: 'http1',
    method: req.method ?? '',
    url: req.url ?? '',
    authority: firstOf(req.headers['host']),
    headers: req.headers,
    tls: socket instanceof TLSSocket ? socket : null,
    upgrade: token,
    takeBody: () => ({ body: null, length: 0 }),
    respond: (outcome, options, done) => {
      answered = true;
      respondUpgrade(socket, head, token, outcome, options, done);
    },
    onClose: (listener) => socket.once('close', () => listener(answered)),
  };
}

function respondUpgrade(socket: Duplex, head: Buffer, token: string, outcome: Outcome, options: RespondOptions, done: (err: Error | undefined) => void): void {
  if ('error' in outcome) {
    writeError(socket, outcome.error, options.extra);
    done(undefined);
    return;
  }
  const response = outcome.response;
  const tunnel = response.tunnel;
  try {
    if (response.status !== 101 || !tunnel) {
      tunnel?.destroy();
      writeAndClose(socket, response, options, done);
      return;
    }
    const headers = { ...forwardableHeaders(response.headers, options.dropMeshHeaders), ...options.extra, connection: 'Upgrade', upgrade: firstOf(response.headers['upgrade']) ?? token };
    socket.write(rawHead(101, headers));
  } catch (err) {
    tunnel?.destroy();
    discardBody(response.body);
    socket.destroy();
    done(err as Error);
    return;
  }
  // What the client sent right after its request head already belongs to the new protocol.
  if (head.length > 0) tunnel.write(head);
  void splice(socket, tunnel).then((result) => done(result.error));
}

/** A non-101 answer to an upgrade: status, headers and body, then the connection closes. */
function writeAndClose(socket: Duplex, response: ProxyResponse, options: RespondOptions, done: (err: Error | undefined) => void): void {
  // Without a length the body is delimited by the close (RFC 9112 6.3), so no chunked framing.
  socket.write(rawHead(response.status, { ...forwardableHeaders(response.headers, options.dropMeshHeaders), ...options.extra, connection: 'close' }));
  const body = response.body;
  if (!body) {
    socket.end();
    done(undefined);
    return;
  }
  if (Buffer.isBuffer(body)) {
    socket.end(body);
    done(undefined);
    return;
  }
  body.on('error', (err) => {
    socket.destroy();
    done(err);
  });
  body.once('end', () => done(undefined));
  body.pipe(socket);
}

export function writeError(socket: Duplex, err: ProxyError, extra: HeaderMap): void {
  if (err instanceof ClientClosedError || socket.destroyed) return;
  const body = `${err.message}\n`;
  const headers: HeaderMap = {
    ...extra,
    ...err.responseHeaders,
    'content-type': 'text/plain; charset=utf-8',
    'content-length': String(Buffer.byteLength(body)),
    [HEADERS.error]: err.code,
    connection: 'close',
  };
  try {
    socket.end(`${rawHead(err.httpStatus, headers)}${body}`);
  } catch {
    socket.destroy();
  }
}

/** A status line and headers, validated as Node validates what it writes itself (no CR/LF injection). */
export function rawHead(status: number, headers: HeaderMap): string {
  let out = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n`;
  for (const name in headers) {
    const value = headers[name] as string | string[];
    validateHeaderName(name);
    for (const one of Array.isArray(value) ? value : [value]) {
      validateHeaderValue(name, one);
      out += `${name}: ${one}\r\n`;
    }
  }
  return `${out}\r\n`;
}

function firstOf(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
