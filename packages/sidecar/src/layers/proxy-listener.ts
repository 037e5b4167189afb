import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { ProxyListener } from '../listener';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * A listening HTTP(S) server that counts requests in flight and drains on close: stop accepting,
 * answer in-flight requests with `Connection: close`, close keep-alive connections as they go
 * idle, and after `drainMs` destroy whatever is left. `onClosed` releases what the listener owns
 * (upstream pools, subscriptions) once no request can use it any more.
 */
export class DrainingListener implements ProxyListener {
  readonly #server: HttpServer | HttpsServer;
  readonly #sockets = new Set<Socket>();
  readonly #responses = new Set<ServerResponse>();
  readonly #onClosed: (forced: boolean) => Promise<void>;
  #active = 0;
  #draining = false;
  #closing: Promise<void> | undefined;
  port = 0;

  constructor(server: HttpServer | HttpsServer, handler: Handler, onClosed: (forced: boolean) => Promise<void>) {
    this.#server = server;
    this.#onClosed = onClosed;
    server.on('connection', (socket: Socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      this.#active += 1;
      this.#responses.add(res);
      if (this.#draining) res.shouldKeepAlive = false;
      res.once('close', () => {
        this.#active -= 1;
        this.#responses.delete(res);
        // The connection becomes idle just after this; close it then rather than at the deadline.
        if (this.#draining) setImmediate(() => server.closeIdleConnections());
      });
      handler(req, res);
    });
  }

  /** Starts listening; resolves with the bound port (useful with port 0). */
  listen(port: number, host: string): Promise<this> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.#server.once('error', onError);
      this.#server.listen(port, host, () => {
        this.#server.off('error', onError);
        this.port = (this.#server.address() as AddressInfo).port;
        resolve(this);
      });
    });
  }

  inFlight(): number {
    return this.#active;
  }

  close(drainMs: number): Promise<void> {
    this.#closing ??= this.#drain(drainMs);
    return this.#closing;
  }

  async #drain(drainMs: number): Promise<void> {
    this.#draining = true;
    // Responses still to come say `Connection: close`, so the client does not reuse the connection.
    for (const res of this.#responses) if (!res.headersSent) res.shouldKeepAlive = false;
    let forced = false;
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#server.closeIdleConnections();
    const timer = setTimeout(() => {
      forced = true;
      this.#server.closeAllConnections();
      // Sockets still in a TLS handshake are not HTTP connections yet; they go too.
      for (const socket of this.#sockets) socket.destroy();
    }, Math.max(0, drainMs));
    await closed;
    clearTimeout(timer);
    await this.#onClosed(forced);
  }
}
