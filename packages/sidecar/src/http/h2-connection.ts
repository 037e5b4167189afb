import { connect, type ClientHttp2Session, type ClientHttp2Stream, type ClientSessionRequestOptions, type OutgoingHttpHeaders, type SecureClientSessionOptions } from 'node:http2';

/** What opens a stream: a session, or an H2Connection choosing one. */
export type H2StreamOpener = Pick<ClientHttp2Session, 'request'>;

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
 * Multiplexed HTTP/2 to one peer: one session, opened when first needed, and another only when
 * every open one has as many streams as the peer allows (SETTINGS_MAX_CONCURRENT_STREAMS: a
 * sidecar allows 250), so long-lived gRPC streams beyond that never wait for a slot. A session that
 * fails, closes or receives GOAWAY is dropped at once, and the next request opens a new one, while
 * the streams already on the old one finish there (GOAWAY from a draining peer lets them).
 */
export class H2Connection implements H2StreamOpener {
  readonly #options: H2ConnectionOptions;
  /** Every session open now: the streams it carries, and how many the peer allows on it. */
  readonly #all = new Map<ClientHttp2Session, { streams: number; limit: number }>();
  /**
   * The peer's last stream limit, assumed for a session until its own SETTINGS arrive (Node
   * reports "unlimited" until then). 100 is the least RFC 9113 advises a peer to allow.
   */
  #peerLimit = 100;
  #current: ClientHttp2Session | undefined;

  constructor(options: H2ConnectionOptions) {
    this.#options = options;
  }

  /** Opens a stream on a session with room for it (see the class comment). */
  request(headers: OutgoingHttpHeaders, options?: ClientSessionRequestOptions): ClientHttp2Stream {
    const session = this.session();
    const stream = session.request(headers, options);
    const entry = this.#all.get(session);
    if (entry) {
      entry.streams += 1;
      stream.on('close', () => (entry.streams -= 1)); // `on`: a stream closes once, and once's wrapper costs per request
    }
    return stream;
  }

  /** The session the next stream goes on: the current one while it has room, else one that has, else a new one. */
  session(): ClientHttp2Session {
    const current = this.#current;
    if (current && usable(current) && this.#hasRoom(current)) return current;
    for (const session of this.#all.keys()) {
      if (session !== current && usable(session) && this.#hasRoom(session)) return (this.#current = session);
    }
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
      [...this.#all.keys()].map(
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

  #hasRoom(session: ClientHttp2Session): boolean {
    const entry = this.#all.get(session);
    return entry !== undefined && entry.streams < entry.limit;
  }

  #open(): ClientHttp2Session {
    const { authority, tls, connectTimeoutMs, idleTimeoutMs } = this.#options;
    const session = connect(authority, { ...tls, settings: { enablePush: false } });
    const entry = { streams: 0, limit: this.#peerLimit };
    this.#all.set(session, entry);
    this.#current = session;
    const drop = (): void => {
      if (this.#current === session) this.#current = undefined;
    };
    const timer = setTimeout(() => session.destroy(new H2ConnectTimeoutError(`no HTTP/2 connection within ${connectTimeoutMs}ms`)), connectTimeoutMs);
    // Connected means the peer spoke HTTP/2 (its SETTINGS), not just that TCP or TLS is up: a peer
    // that accepts the connection and stays silent would otherwise hold every stream forever.
    session.once('remoteSettings', () => clearTimeout(timer));
    session.on('remoteSettings', (settings) => {
      entry.limit = settings.maxConcurrentStreams ?? Number.MAX_SAFE_INTEGER;
      this.#peerLimit = entry.limit;
    });
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

/** A session that can take new streams (not closed, destroyed, or told to go away). */
function usable(session: ClientHttp2Session): boolean {
  return !session.closed && !session.destroyed;
}
