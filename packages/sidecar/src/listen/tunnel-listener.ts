import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tunnelActivity, type ProxyListener, type TunnelActivity } from '../listener';

/**
 * A listener for raw TCP (a `--tcp-forward` port): every connection is a tunnel that `relay`
 * carries until it settles. Closing stops accepting, lets tunnels run for up to `drainMs`, then
 * destroys what is left; a tunnel has no natural point at which to end it sooner.
 */
export class TunnelListener implements ProxyListener {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  #closing: Promise<void> | undefined;
  #served = 0;
  port = 0;

  constructor(relay: (socket: Socket) => Promise<unknown>) {
    // Half-open: a client that shuts down its sending side still gets the rest of the answer.
    this.#server = createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
      this.#sockets.add(socket);
      this.#served += 1;
      socket.on('error', () => undefined); // the relay reports failures
      void relay(socket).finally(() => this.#sockets.delete(socket));
    });
  }

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
    return this.#sockets.size;
  }

  served(): number {
    return this.#served;
  }

  tunnels(): TunnelActivity {
    return tunnelActivity(this.#sockets);
  }

  close(drainMs: number): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        for (const socket of this.#sockets) socket.destroy();
      }, Math.max(0, drainMs));
      this.#server.close(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    return this.#closing;
  }
}
