import { connect, type ClientHttp2Session, type SecureClientSessionOptions } from 'node:http2';

export interface H2ConnectionOptions {
  /** `http://host:port` (h2c, prior knowledge) or `https://host:port` (TLS with ALPN h2). */
  readonly authority: string;
  /** TLS client options for `https` (certificate, trust, identity check). */
  readonly tls?: SecureClientSessionOptions;
  /** A session not connected by then is destroyed; its pending streams fail as connect failures. */
  readonly connectTimeoutMs: number;
  /** A session without any frame for this long is closed gracefully (GOAWAY). */
  readonly idleTimeoutMs: number;
}

/** A session whose peer did not speak HTTP/2 in time: nothing sent on it can have been processed. */
export class H2ConnectTimeoutError extends Error {
  readonly code = 'ETIMEDOUT';
}

/**
 * One multiplexed HTTP/2 session to one peer, opened when first needed. A session that fails,
 * closes or receives GOAWAY is dropped at once, and the next request opens a new one, while the
 * streams already on the old one finish there (GOAWAY from a draining peer lets them).
 */
export class H2Connection {
  readonly #options: H2ConnectionOptions;
  readonly #all = new Set<ClientHttp2Session>();
  #current: ClientHttp2Session | undefined;

  constructor(options: H2ConnectionOptions) {
    this.#options = options;
  }

  /** The session to start a stream on (opening one if there is none in use). */
  session(): ClientHttp2Session {
    const current = this.#current;
    if (current && !current.closed && !current.destroyed) return current;
    return this.#open();
  }

  /** Sessions open now, in use or finishing (for tests and /config). */
  get size(): number {
    return this.#all.size;
  }

  /** Graceful: streams in flight finish first. With `force`, every session is destroyed now. */
  async close(force: boolean): Promise<void> {
    this.#current = undefined;
    await Promise.all(
      [...this.#all].map(
        (session) =>
          new Promise<void>((resolve) => {
            if (session.destroyed) return resolve();
            session.once('close', () => resolve());
            if (force) session.destroy();
            else session.close();
          }),
      ),
    );
  }

  #open(): ClientHttp2Session {
    const { authority, tls, connectTimeoutMs, idleTimeoutMs } = this.#options;
    const session = connect(authority, { ...tls, settings: { enablePush: false } });
    this.#all.add(session);
    this.#current = session;
    const drop = (): void => {
      if (this.#current === session) this.#current = undefined;
    };
    const timer = setTimeout(() => session.destroy(new H2ConnectTimeoutError(`no HTTP/2 connection within ${connectTimeoutMs}ms`)), connectTimeoutMs);
    // Connected means the peer spoke HTTP/2 (its SETTINGS), not just that TCP or TLS is up: a peer
    // that accepts the connection and stays silent would otherwise hold every stream forever.
    session.once('remoteSettings', () => clearTimeout(timer));
    // Pending streams fail with this error as their cause; the session itself must not crash anyone.
    session.on('error', drop);
    session.once('goaway', drop);
    session.once('close', () => {
      clearTimeout(timer);
      drop();
      this.#all.delete(session);
    });
    session.setTimeout(idleTimeoutMs, () => session.close());
    return session;
  }
}
