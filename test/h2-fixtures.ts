/**
 * HTTP/2 on both ends of a mesh for the cross-process suites: an h2c app (what `--app-protocol
 * h2c` and gRPC servers are) that records what reached it, and raw node:http2 clients for the
 * sidecar ports (h2c outbound, h2 over mTLS inbound).
 */
import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { type ClientCredential } from '@weft/harness';

export interface H2Received {
  readonly method: string;
  readonly path: string;
  readonly authority: string | undefined;
  readonly headers: http2.IncomingHttpHeaders;
}

export interface H2App {
  readonly port: number;
  /** Every stream that reached the app, in order, even ones that never got an answer. */
  readonly received: H2Received[];
  close(): Promise<void>;
}

/**
 * An h2c app. A gRPC call (`content-type: application/grpc`) is answered as gRPC (one message,
 * `grpc-status: 0`), a path starting `/hold` is never answered (until the caller gives up), and
 * anything else gets its own request back as JSON.
 */
export async function startH2App(): Promise<H2App> {
  const received: H2Received[] = [];
  const server = http2.createServer();
  server.on('stream', (stream, headers) => {
    stream.on('error', () => undefined);
    const seen: H2Received = { method: String(headers[':method']), path: String(headers[':path']), authority: headers[':authority'], headers };
    received.push(seen);
    if (seen.path.startsWith('/hold')) return;
    const json = Buffer.from(JSON.stringify({ path: seen.path, authority: seen.authority, headers }));
    stream.resume();
    stream.once('end', () => {
      if (stream.destroyed) return;
      if (String(headers['content-type']).startsWith('application/grpc')) {
        const frame = Buffer.alloc(5 + json.length);
        frame.writeUInt32BE(json.length, 1);
        json.copy(frame, 5);
        stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
        stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
        stream.end(frame);
      } else {
        stream.respond({ ':status': 200, 'content-type': 'application/json' });
        stream.end(json);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (s) => {
    sessions.add(s);
    s.on('error', () => undefined);
    s.once('close', () => sessions.delete(s));
  });
  return {
    port: (server.address() as AddressInfo).port,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sessions) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Where an HTTP/2 client connects: a sidecar's outbound port (h2c), or an inbound port over mTLS with a workload credential. */
export type H2Target = { readonly kind: 'h2c'; readonly port: number } | { readonly kind: 'mtls'; readonly port: number; readonly caPem: string; readonly credential: ClientCredential };

/** A raw HTTP/2 session to `target`, connected (its SETTINGS exchanged); the caller closes it. */
export function connectH2(target: H2Target): Promise<http2.ClientHttp2Session> {
  const session =
    target.kind === 'h2c'
      ? http2.connect(`http://127.0.0.1:${target.port}`)
      : http2.connect(`https://127.0.0.1:${target.port}`, {
          ca: target.caPem,
          cert: target.credential.certificatePem,
          key: target.credential.privateKeyPem,
          // The peer is a sidecar whose certificate names a SPIFFE ID, not a host.
          checkServerIdentity: () => undefined,
        });
  return new Promise((resolve, reject) => {
    session.once('error', reject);
    session.once('remoteSettings', () => {
      session.off('error', reject);
      session.on('error', () => undefined); // the test watches 'goaway' and 'close'
      resolve(session);
    });
  });
}

/** One request on `session`: the status and body, once the response has ended. */
export function h2Get(session: http2.ClientHttp2Session, authority: string, path: string, headers: http2.OutgoingHttpHeaders = {}): Promise<{ status: number; body: string; headers: http2.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = session.request({ ':method': 'GET', ':path': path, ':authority': authority, ...headers });
    let answer: http2.IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    req.on('response', (h) => (answer = h));
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve({ status: Number(answer[':status']), body: Buffer.concat(chunks).toString(), headers: answer }));
    req.on('error', reject);
    req.end();
  });
}
