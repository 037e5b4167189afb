import type { Duplex } from 'node:stream';

/** What went through a spliced pair of connections. */
export interface SpliceResult {
  /** Bytes read from `a` and written to `b`. */
  readonly aToB: number;
  /** Bytes read from `b` and written to `a`. */
  readonly bToA: number;
  /** The first error either side failed with; undefined when both closed cleanly. */
  readonly error: Error | undefined;
}

/**
 * Carries bytes both ways between two connections, with back-pressure, until both have closed.
 * The end of one direction is passed on as the end of the other side's writing (a half-close, as
 * TCP has it), so a client that sends its request and shuts down its side still gets the answer.
 * A failure or an abrupt close on either side destroys both.
 */
export function splice(a: Duplex, b: Duplex): Promise<SpliceResult> {
  return new Promise((resolve) => {
    let aToB = 0;
    let bToA = 0;
    let error: Error | undefined;
    let open = 2;
    const fail = (err: Error): void => {
      error ??= err;
      a.destroy();
      b.destroy();
    };
    const onClose = (side: Duplex, other: Duplex) => (): void => {
      // Closed without ending its reading side: the connection was cut, not finished.
      if (!side.readableEnded && !other.destroyed) other.destroy();
      open -= 1;
      if (open === 0) resolve({ aToB, bToA, error });
    };
    a.on('data', (chunk: Buffer) => (aToB += chunk.length));
    b.on('data', (chunk: Buffer) => (bToA += chunk.length));
    a.on('error', fail);
    b.on('error', fail);
    // A side that closed before the splice began will not say so again.
    const watch = (side: Duplex, other: Duplex): void => {
      if (side.closed) onClose(side, other)();
      else side.once('close', onClose(side, other));
    };
    watch(a, b);
    watch(b, a);
    if (a.destroyed || b.destroyed) return fail(new Error('a side closed before the splice began'));
    a.pipe(b);
    b.pipe(a);
  });
}
