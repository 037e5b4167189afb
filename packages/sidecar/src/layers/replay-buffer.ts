import { PassThrough, type Readable } from 'node:stream';

/**
 * A request body that can be sent more than once, without holding up the first attempt.
 *
 * The first attempt gets the body as the client sends it, while a copy is kept up to `cap` bytes.
 * A retry replays the copy and then carries on with whatever the client still sends, so a client
 * that streams and waits for replies (a bidi gRPC call, a paced upload) is never blocked on the
 * retry layer wanting the whole body first. Once the body outgrows the cap the copy is dropped and
 * no later attempt can be made. Memory per request is bounded by the cap.
 */
export class ReplayableBody {
  readonly #source: Readable | Buffer | null;
  readonly #cap: number;
  readonly #chunks: Buffer[] = [];
  #size = 0;
  #overflowed: boolean;
  #ended = false;
  #failure: Error | undefined;
  #opened = 0;
  #current: PassThrough | undefined;
  #waitingForDrain: (() => void) | undefined;

  constructor(source: Readable | Buffer | null, declaredLength: number | undefined, cap: number) {
    this.#source = source;
    this.#cap = cap;
    // A body declared larger than the cap is never copied: it streams once.
    this.#overflowed = declaredLength !== undefined && declaredLength > cap;
  }

  /** True while another attempt could still be sent the whole body. */
  get replayable(): boolean {
    return !this.#overflowed && this.#failure === undefined;
  }

  /**
   * The body for the next attempt, from its first byte; undefined when it can no longer be
   * replayed. The previous attempt's stream is abandoned (its reader has given up on it).
   */
  open(): Readable | Buffer | null | undefined {
    const source = this.#source;
    if (source === null || Buffer.isBuffer(source)) return source;
    this.#opened += 1;
    if (this.#opened > 1 && !this.replayable) return undefined;
    if (this.#opened === 1 && this.#overflowed) return source;
    if (this.#opened === 1) this.#listen(source);
    this.#abandonCurrent();
    const out = new PassThrough();
    for (const chunk of this.#chunks) out.write(chunk);
    if (this.#ended) out.end();
    this.#current = out;
    return out;
  }

  #listen(source: Readable): void {
    source.on('data', (chunk: Buffer) => {
      if (!this.#overflowed) {
        this.#chunks.push(chunk);
        this.#size += chunk.length;
        if (this.#size > this.#cap) {
          this.#overflowed = true;
          this.#chunks.length = 0;
        }
      }
      const out = this.#current;
      if (out && !out.write(chunk)) {
        // Back-pressure from the attempt in flight reaches the client.
        source.pause();
        const resume = (): void => {
          this.#waitingForDrain = undefined;
          source.resume();
        };
        this.#waitingForDrain = resume;
        out.once('drain', resume);
      }
    });
    source.once('end', () => {
      this.#ended = true;
      this.#current?.end();
    });
    source.once('error', (err: Error) => this.#fail(err));
    // A stream destroyed without an error (the client went away) never ends.
    source.once('close', () => {
      if (!this.#ended) this.#fail(new Error('the request body ended early: the client closed the connection'));
    });
  }

  #fail(err: Error): void {
    this.#failure = err;
    this.#current?.destroy(err);
  }

  #abandonCurrent(): void {
    const old = this.#current;
    if (!old) return;
    this.#current = undefined;
    if (this.#waitingForDrain) {
      old.off('drain', this.#waitingForDrain);
      this.#waitingForDrain();
    }
    old.destroy();
  }
}
