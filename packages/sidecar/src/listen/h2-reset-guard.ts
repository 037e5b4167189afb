import { constants, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2';

const { NGHTTP2_ENHANCE_YOUR_CALM } = constants;
/** How long a session closed for abuse may take to end the streams it has in flight. */
const CLOSE_GRACE_MS = 2_000;

/**
 * What a client's HTTP/2 session may do before the listener closes it (CVE-2023-44487, "rapid
 * reset": streams opened and reset at once cost the server work each, but the client nothing
 * and no concurrency slot). Netty's defaults (200 resets per 30 s) and Envoy's premature-reset
 * check (more than half of the streams) are the models.
 */
export const H2_SESSION_LIMITS = Object.freeze({
  /**
   * SETTINGS_MAX_CONCURRENT_STREAMS: Go's default. Node's (unlimited) lets one client hold any
   * number of requests at once. Not 100 (nginx, Apache): a peer sidecar carries all of its app's
   * calls to this endpoint on one session, so long-lived gRPC streams count against it; past the
   * limit a client's new streams wait for a free slot.
   */
  maxConcurrentStreams: 250,
  /** Premature resets (the client reset a stream before any response started) tolerated per window... */
  resetLimit: 100,
  windowMs: 30_000,
  // ...and only while they are at most half of the streams opened in it: a busy client (or a peer
  // sidecar relaying its app's cancellations) answered most of the time is no attacker.
});

/**
 * Counts premature resets on one client session and closes it, with GOAWAY ENHANCE_YOUR_CALM,
 * once they pass the limits above; `onClosed` reports it (metrics). Nghttp2's own rate limit
 * (1,000 resets, then 33 a second) would close later, saying INTERNAL_ERROR, and let far more
 * of those requests reach the app.
 */
export function guardResets(session: ServerHttp2Session, onClosed: () => void): void {
  const { resetLimit, windowMs } = H2_SESSION_LIMITS;
  let windowStart = Date.now();
  let opened = 0;
  let resets = 0;
  session.on('stream', (stream: ServerHttp2Stream) => {
    opened += 1;
    // `on`: a stream closes once, and once's wrapper is an allocation per stream.
    stream.on('close', () => {
      if (stream.headersSent || session.closed || session.destroyed) return;
      const now = Date.now(); // only for resets: an answered stream costs no clock read
      if (now - windowStart > windowMs) {
        windowStart = now;
        opened = 0;
        resets = 0;
      }
      resets += 1;
      if (resets > resetLimit && resets * 2 > opened) {
        onClosed();
        // GOAWAY, then close: no new stream is taken, and the socket closes once those in flight
        // have ended. Not destroy() at once, which on TLS can drop the GOAWAY unsent.
        session.goaway(NGHTTP2_ENHANCE_YOUR_CALM);
        session.close();
        setTimeout(() => session.destroy(), CLOSE_GRACE_MS).unref();
      }
    });
  });
}

/**
 * Starts an exchange for a client's new stream once the bytes that carried its HEADERS have all
 * been read: a RST_STREAM in the same read (how a rapid reset arrives) has then closed it, and a
 * closed stream is dropped before anything reaches the app. Node emits a stream as soon as its
 * HEADERS frame is parsed, and the request would be on its way before the RST is.
 */
export function startWhenRead(stream: ServerHttp2Stream, start: () => void): void {
  stream.on('error', () => undefined); // a reset before the exchange takes it must not crash anyone
  setImmediate(() => {
    if (!stream.closed && !stream.destroyed) start();
  });
}
