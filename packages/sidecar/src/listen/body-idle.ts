import type { Readable } from 'node:stream';
import type { Cancel } from '../layers/cancel';
import { RequestBodyTimeoutError } from '../layers/errors';

/** One exchange whose request body is still arriving. */
export interface WatchedBody {
  /** The request as received (an IncomingMessage, or an HTTP/2 stream). */
  readonly body: Readable & { readonly complete?: boolean };
  /** The response (ServerResponse or the same HTTP/2 stream); once its headers went out the watch ends. */
  readonly response: { readonly headersSent: boolean };
  readonly cancel: Cancel;
  /** Chunks seen since a sweep first found the body still arriving; counting starts then, not before. */
  chunks: number;
  seen: number;
  counting: boolean;
  /** When the body last moved, or the sidecar last held it up (ms, performance.now). */
  since: number;
}

/**
 * The body idle timeout of one listener: a request body from which nothing arrives for `idleMs`
 * while the sidecar is ready to read it aborts its exchange with RequestBodyTimeoutError (408;
 * the edge answers it like any error and closes the connection, as the body is unfinished).
 * Idle, not total: a slow upload that keeps moving is never cut. A body the sidecar itself holds
 * up (back-pressure from a slow upstream, nobody reading yet) is not the client's stall.
 *
 * Cost: no timer per request. A request with a body joins a set and leaves it when it ends; one
 * interval per listener sweeps the set while it is not empty, and only a body still arriving at a
 * sweep gets a chunk counter. Once a response has started, the app is answering (a stream, a
 * gRPC call whose client is quiet) and the watch ends: what follows is the app's to bound.
 */
export class BodyIdleWatch {
  readonly #pending = new Set<WatchedBody>();
  readonly #idleMs: number;
  readonly #sweepMs: number;
  readonly #onExpired: () => void;
  #timer: NodeJS.Timeout | undefined;

  /** `idleMs` 0 turns the watch off. `onExpired` runs for each exchange it aborts (metrics). */
  constructor(idleMs: number, onExpired: () => void) {
    this.#idleMs = idleMs;
    // A quarter of the timeout, at most a second: a stall is cut within idleMs + sweepMs.
    this.#sweepMs = Math.max(50, Math.min(1000, Math.floor(idleMs / 4)));
    this.#onExpired = onExpired;
  }

  /** Watches one exchange's request body; returns what to call when the exchange is over. */
  watch(body: WatchedBody['body'], response: WatchedBody['response'], cancel: Cancel): WatchedBody | undefined {
    if (this.#idleMs <= 0) return undefined;
    const p: WatchedBody = { body, response, cancel, chunks: 0, seen: 0, counting: false, since: 0 };
    this.#pending.add(p);
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => this.#sweep(), this.#sweepMs);
      this.#timer.unref();
    }
    return p;
  }

  forget(p: WatchedBody | undefined): void {
    if (p !== undefined) this.#pending.delete(p);
  }

  /** Stops the sweep (the listener closed). */
  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#pending.clear();
  }

  #sweep(): void {
    const now = performance.now();
    for (const p of this.#pending) {
      const body = p.body;
      if (p.response.headersSent || body.complete === true || body.readableEnded || body.destroyed) {
        this.#pending.delete(p);
      } else if (body.readableFlowing !== true || body.readableLength > 0) {
        p.since = now; // the sidecar is not reading (back-pressure): not the client's stall
      } else if (!p.counting) {
        p.counting = true;
        p.since = now;
        body.on('data', () => void (p.chunks += 1));
      } else if (p.chunks !== p.seen) {
        p.seen = p.chunks;
        p.since = now;
      } else if (now - p.since >= this.#idleMs) {
        this.#pending.delete(p);
        this.#onExpired();
        p.cancel.abort(new RequestBodyTimeoutError(this.#idleMs));
      }
    }
    if (this.#pending.size === 0) this.close();
  }
}
