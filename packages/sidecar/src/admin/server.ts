import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '@weft/api';
import { refusal, type Audience } from './page-access';

export type Readiness = { readonly ready: true } | { readonly ready: false; readonly reason: string };

/** What the admin pages show; the sidecar supplies live views of its parts. */
export interface AdminHandlers {
  readiness(): Readiness;
  /** The /config document. Must never hold key material; the server double-checks. */
  configView(): unknown;
  /** Prometheus text exposition. */
  metrics(): string;
}

export interface AdminServerOptions {
  readonly host: string;
  readonly port: number;
  readonly handlers: AdminHandlers;
  readonly logger: Logger;
  /** Serve the loopback-only pages (`/config`) to every caller too (`--admin-remote-config`). */
  readonly remoteConfig?: boolean;
}

const ALLOW = 'GET, HEAD';
/** A last line of defence: /config is assembled field by field, but a slip must not leak a key. */
const KEY_MATERIAL_RE = /PRIVATE KEY/;

/**
 * The admin port: `/live`, `/ready`, `/metrics` for anyone who reaches it (probes, Prometheus),
 * `/config` for loopback callers only unless `remoteConfig` says otherwise. Plain node:http; every
 * page is built on request from the current state, so it is always what is in force right now.
 */
export class AdminServer {
  readonly #server: http.Server;
  readonly #options: AdminServerOptions;

  private constructor(options: AdminServerOptions) {
    this.#options = options;
    this.#server = http.createServer((req, res) => this.#handle(req, res));
  }

  static async start(options: AdminServerOptions): Promise<AdminServer> {
    const admin = new AdminServer(options);
    await new Promise<void>((resolve, reject) => {
      admin.#server.once('error', reject);
      admin.#server.listen(options.port, options.host, () => {
        admin.#server.off('error', reject);
        resolve();
      });
    });
    return admin;
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    if (!this.#server.listening) return;
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    // Probes and scrapers keep connections alive; they would hold close() open.
    this.#server.closeAllConnections();
    await closed;
  }

  #handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const path = new URL(req.url ?? '/', 'http://admin').pathname;
    const page = PAGES[path];
    if (!page) return send(res, req, 404, 'text/plain; charset=utf-8', `not found: ${path} (try /live, /ready, /config, /metrics)\n`);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', ALLOW);
      return send(res, req, 405, 'text/plain; charset=utf-8', `method ${req.method ?? ''} not allowed on ${path}\n`);
    }
    const refused = refusal(path, page.audience, req.socket.remoteAddress, this.#options.remoteConfig ?? false);
    if (refused !== undefined) return send(res, req, 403, 'text/plain; charset=utf-8', refused);
    try {
      page.render(this.#options.handlers, req, res, this.#options.logger);
    } catch (err) {
      this.#options.logger.error('admin page failed', { path, error: err instanceof Error ? err : String(err) });
      send(res, req, 500, 'text/plain; charset=utf-8', `internal error rendering ${path}\n`);
    }
  }
}

type Render = (handlers: AdminHandlers, req: http.IncomingMessage, res: http.ServerResponse, logger: Logger) => void;

/** A page and who may read it; a new page that shows or changes how the sidecar works is `loopback`. */
interface Page {
  readonly audience: Audience;
  readonly render: Render;
}

const PAGES: Readonly<Record<string, Page>> = Object.freeze({
  '/live': { audience: 'anyone', render: (_h, req, res) => send(res, req, 200, 'text/plain; charset=utf-8', 'live\n') },
  '/ready': {
    audience: 'anyone',
    render: (h, req, res) => {
      const r = h.readiness();
      if (r.ready) send(res, req, 200, 'text/plain; charset=utf-8', 'ready\n');
      else send(res, req, 503, 'text/plain; charset=utf-8', `not ready: ${r.reason}\n`);
    },
  },
  '/config': {
    audience: 'loopback',
    render: (h, req, res, logger) => {
      const body = `${JSON.stringify(h.configView(), null, 2)}\n`;
      if (KEY_MATERIAL_RE.test(body)) {
        logger.error('refusing to serve /config: it would contain key material (bug)');
        return send(res, req, 500, 'text/plain; charset=utf-8', 'refusing to serve /config: it would contain key material\n');
      }
      send(res, req, 200, 'application/json; charset=utf-8', body);
    },
  },
  '/metrics': { audience: 'anyone', render: (h, req, res) => send(res, req, 200, 'text/plain; version=0.0.4; charset=utf-8', h.metrics()) },
});

function send(res: http.ServerResponse, req: http.IncomingMessage, status: number, contentType: string, body: string): void {
  res.statusCode = status;
  res.setHeader('content-type', contentType);
  res.setHeader('cache-control', 'no-store');
  res.setHeader('content-length', Buffer.byteLength(body));
  res.end(req.method === 'HEAD' ? undefined : body);
}
