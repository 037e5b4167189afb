import { Readable } from 'node:stream';

/** The connection a body is read from: reading resumes it, giving the body up aborts its request. */
export interface BodySource {
  resume(): void;
  abort(reason: Error): void;
}

/**
 * A response body fed by an HTTP client (undici's dispatch handler): chunks are pushed as they
 * arrive, and reading resumes the connection when back-pressure paused it.
 *
 * Most answers a proxy carries are small and arrive with their headers, so by the time the layers
 * have passed the response up to the writer the whole body is already here. `takeWhole` hands
 * those bytes over at once; the writer sends them with the headers in one write instead of piping
 * (a pipe and its watchers per response were ~4 KB of garbage and ~10 us per side:
 * docs/performance.md, "Whole bodies"). The body still ends and closes like any stream, so every
 * layer that waits for its end (span, endpoint release) sees it end.
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

  /**
   * The whole body when all of it has arrived and nobody has started reading it; undefined
   * otherwise (the writer then streams it). Taking it ends the stream.
   */
  takeWhole(): Buffer | undefined {
    if (!this.#complete || this.destroyed || this.readableFlowing !== null) return undefined;
    const whole = this.read() as Buffer | null; // all of the buffer; 'end' follows on the next tick
    return whole ?? Buffer.alloc(0);
  }

  override _read(): void {
    if (!this.#complete) this.#source.resume();
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    if (!this.#complete) this.#source.abort(err ?? new Error('the response body was discarded'));
    callback(err);
  }
}

/** The whole body of a response when it is already here (see ProxyBody); undefined to stream it. */
export function wholeBody(body: Readable): Buffer | undefined {
  return body instanceof ProxyBody ? body.takeWhole() : undefined;
}
