import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HealthSource {
  /** True once the gRPC server listens, false again while shutting down. */
  readonly ready: () => boolean;
  /**
   * Lines added under `ready` when something is degraded but the control plane still serves (an
   * external registry down, etcd out of reach); they never change the status code.
   */
  readonly details?: () => readonly string[];
  readonly metrics: () => string;
}

/**
 * `/live`, `/ready` and `/metrics` on the control plane's HTTP port. Anything else is 404;
 * a request this server cannot make sense of is answered, never allowed to throw.
 */
export class HealthServer {
  readonly #server: http.Server;

  private constructor(server: http.Server) {
    this.#server = server;
  }

  static async listen(host: string, port: number, source: HealthSource): Promise<HealthServer> {
    const server = http.createServer((req, res) => respond(req, res, source));
    server.on('clientError', (_err, socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      else socket.destroy();
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return new HealthServer(server);
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }
}

function respond(req: http.IncomingMessage, res: http.ServerResponse, source: HealthSource): void {
  try {
    let path: string;
    try {
      path = new URL(req.url ?? '/', 'http://control-plane').pathname;
    } catch {
      path = '';
    }
    const route = ROUTES.get(path);
    if (!route) return send(res, 404, 'text/plain; charset=utf-8', 'not found: try /live, /ready or /metrics\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n');
    }
    route(res, source);
  } catch {
    if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', 'internal error\n');
    else res.destroy();
  }
}

/** A Map, not an object literal, so that paths like `/__proto__` cannot reach inherited members. */
const ROUTES: ReadonlyMap<string, (res: http.ServerResponse, source: HealthSource) => void> = new Map([
  ['/live', (res) => send(res, 200, 'text/plain; charset=utf-8', 'ok\n')],
  ['/ready', (res, source) => {
    const details = (source.details?.() ?? []).map((line) => `${line}\n`).join('');
    if (source.ready()) send(res, 200, 'text/plain; charset=utf-8', `ready\n${details}`);
    else send(res, 503, 'text/plain; charset=utf-8', `not ready\n${details}`);
  }],
  ['/metrics', (res, source) => send(res, 200, 'text/plain; version=0.0.4; charset=utf-8', source.metrics())],
]);

function send(res: http.ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'Content-Type': contentType, 'Cache-Control': 'no-store' });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
