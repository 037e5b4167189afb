/**
 * The buffers spans are encoded into, reused once every span written into one has been copied
 * into an export request. At 100% sampling each sidecar wrote about 0.5 KB of new slab per span;
 * V8 counts such buffers toward the heap's limits, so that churn alone started a full garbage
 * collection of the whole sidecar heap every half second or so. With reuse, slabs are allocated
 * only while the queue grows.
 */
export class SpanSlabs {
  readonly #free: Slab[] = [];

  constructor(
    readonly slabBytes: number,
    /** Free slabs kept at most; beyond that a finished slab is left to the garbage collector. */
    readonly keep: number,
  ) {}

  /** A slab to write into: a free one, or a new one. */
  take(): Slab {
    return this.#free.pop() ?? new Slab(Buffer.allocUnsafe(this.slabBytes), this);
  }

  /** A slab of another size (the writer grew it for a span larger than what was left): never reused. */
  adopt(buffer: Buffer): Slab {
    return new Slab(buffer, undefined);
  }

  /** @internal Called by a slab no span points into any more. */
  giveBack(slab: Slab): void {
    if (this.#free.length < this.keep) this.#free.push(slab);
  }
}

/**
 * One buffer of encoded spans. `generation` changes each time it is reused, so an encoded span
 * copied after its slab was reused is caught instead of exporting another span's bytes.
 */
export class Slab {
  generation = 0;
  #pending = 0;
  #sealed = false;

  constructor(
    readonly buffer: Buffer,
    readonly owner: SpanSlabs | undefined,
  ) {}

  /** One more span written into it. */
  hold(): void {
    this.#pending += 1;
  }

  /** No more spans will be written into it. */
  seal(): void {
    this.#sealed = true;
    this.#maybeFree();
  }

  /** One of its spans was copied into an export request: its bytes are not needed any more. */
  release(): void {
    this.#pending -= 1;
    this.#maybeFree();
  }

  #maybeFree(): void {
    if (!this.#sealed || this.#pending > 0 || this.owner === undefined) return;
    this.generation += 1;
    this.#sealed = false;
    this.#pending = 0;
    this.owner.giveBack(this);
  }
}
