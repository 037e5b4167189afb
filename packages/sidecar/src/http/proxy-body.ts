import { Readable } from 'node:stream';

/** The connection a body is read from: reading resumes it, giving the body up aborts its request. */
export interface BodySource {
  resume(): void;
  abort(reason: Error): void;
}

/**
 * A streamed response body fed by an HTTP client (undici's dispatch handler): chunks are pushed as
 * they arrive, and reading resumes the connection when back-pressure paused it. Destroying it
 * before its end aborts the request, which closes the connection instead of reading on.
 */
export class ProxyBody extends Readable {
  readonly #source: BodySource;
  #complete = false;

  constructor(source: BodySource) {
    super({ highWaterMark: 64 * 1024 });
    this.#source = source;
    // Whoever pipes this body sees its errors; an error on a body nobody reads any more must not crash.
    this.on('error', () => undefined);
  }

  /** The last chunk has arrived. */
  complete(): void {
    this.#complete = true;
    this.push(null);
  }

  override _read(): void {
    if (!this.#complete) this.#source.resume();
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    if (!this.#complete) this.#source.abort(err ?? new Error('the response body was discarded'));
    callback(err);
  }
}
