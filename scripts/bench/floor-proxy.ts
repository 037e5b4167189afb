/**
 * The floor: the least a Node.js mTLS proxy pair can do per request with the same building blocks
 * as a Weft sidecar (node:http to accept, undici's Pool to send, TLS 1.3 with client
 * certificates between the two), and nothing else: no routing, policy, telemetry, retries or
 * errors worth the name. Not a product: `npm run bench:floor` runs it next to the Weft pair to
 * show how much of Weft's cost is Node's own and how much is Weft's.
 *
 * `node floor-proxy.js client LISTEN_PORT PEER_PORT CERT_DIR` (plain in, mTLS out) or
 * `node floor-proxy.js server LISTEN_PORT APP_PORT CERT_DIR` (mTLS in, plain out).
 */
import * as fs from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import * as path from 'node:path';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';

/** undici 7's dispatch API, as the sidecar uses it (the scripts' own undici is another major). */
interface Handler {
  onRequestStart(controller: unknown): void;
  onResponseStart(controller: unknown, status: number, headers: Record<string, string | string[]>): void;
  onResponseData(controller: unknown, chunk: Buffer): void;
  onResponseEnd(controller: unknown, trailers: unknown): void;
  onResponseError(controller: unknown, err: Error): void;
}
interface Pool {
  dispatch(options: { path: string; method: string; headers: Record<string, string | string[] | undefined>; body: null }, handler: Handler): boolean;
}
type PoolClass = new (origin: string, options: Record<string, unknown>) => Pool;

const [role, listenPort, peerPort, certDir] = process.argv.slice(2) as [string, string, string, string];
const file = (name: string): Buffer => fs.readFileSync(path.join(certDir, name));
// The sidecar's own undici, loaded the way the sidecar loads it (http/undici-pool.ts).
const sidecarDir = path.dirname(require.resolve('@weft/sidecar/package.json'));
const PoolClass = require(require.resolve('undici/lib/dispatcher/pool', { paths: [sidecarDir] })) as PoolClass;

let errorsLogged = 0;

function forward(pool: Pool): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const handler: Handler = {
      onRequestStart: () => undefined, // marks the handler as the new API for undici
      onResponseStart: (_c, status, headers) => void res.writeHead(status, headers),
      onResponseData: (_c, chunk) => void res.write(chunk),
      onResponseEnd: () => void res.end(),
      onResponseError: (_c, err) => {
        if (errorsLogged++ < 5) process.stderr.write(`${JSON.stringify({ msg: 'upstream error', error: err.message })}\n`);
        if (!res.headersSent) res.writeHead(502);
        res.end();
      },
    };
    const headers = { ...req.headers };
    delete headers.connection;
    pool.dispatch({ path: req.url ?? '/', method: req.method ?? 'GET', headers, body: null }, handler);
  };
}

function listening(): void {
  process.stdout.write(`${JSON.stringify({ msg: 'listening', role, port: Number(listenPort) })}\n`);
}

process.on('SIGTERM', () => process.exit(0));
if (role === 'client') {
  const pool = new PoolClass(`https://127.0.0.1:${peerPort}`, {
    keepAliveTimeout: 60_000,
    connect: { ca: file('ca.pem'), cert: file('client.pem'), key: file('client.key'), minVersion: 'TLSv1.3',
      // undici names the server after the Host header; the peer is checked by its certificate's name.
      checkServerIdentity: (_host: string, cert: PeerCertificate) => checkServerIdentity('nginx-server', cert) },
  });
  createHttpServer({ keepAliveTimeout: 65_000 }, forward(pool)).listen(Number(listenPort), '127.0.0.1', listening);
} else {
  const pool = new PoolClass(`http://127.0.0.1:${peerPort}`, { keepAliveTimeout: 4_000 });
  createHttpsServer(
    { ca: file('ca.pem'), cert: file('server.pem'), key: file('server.key'), requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.3', keepAliveTimeout: 65_000 },
    forward(pool),
  ).listen(Number(listenPort), '127.0.0.1', listening);
}
