import { PassThrough, type Readable } from 'node:stream';

/** A request body ready for one or more attempts. */
export type ReplayBody =
  /** Fully in memory (or absent): every attempt can send it again. */
  | { readonly replayable: true; readonly body: Buffer | null }
  /** Too large to keep: sent once, as a stream; the request is not retried. */
  | { readonly replayable: false; readonly body: Readable };

/**
 * Reads a request body into memory when it fits in `cap` bytes, so that retries can replay it.
 * A body declared larger than the cap is not read at all; a chunked body is read until it ends
 * or passes the cap, and then what was read is put back in front of the rest, which streams on.
 * Memory per request is bounded by the cap either way.
 */
export function bufferForReplay(body: Readable | Buffer | null, declaredLength: number | undefined, cap: number): Promise<ReplayBody> {
  if (body === null || Buffer.isBuffer(body)) return Promise.resolve({ replayable: true, body });
  if (declaredLength !== undefined && declaredLength > cap) return Promise.resolve({ replayable: false, body });
  const source = body;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = (): void => {
      source.off('data', onData);
      source.off('end', onEnd);
      source.off('error', onError);
      source.off('close', onClose);
    };
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      size += chunk.length;
      if (size <= cap) return;
      cleanup();
      source.pause();
      resolve({ replayable: false, body: prepend(chunks, source) });
    };
    const onEnd = (): void => {
      cleanup();
      resolve({ replayable: true, body: Buffer.concat(chunks, size) });
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(err);
    };
    // A stream destroyed without an error (the client went away) never ends.
    const onClose = (): void => onError(new Error('the request body ended early: the client closed the connection'));
    source.on('data', onData);
    source.once('end', onEnd);
    source.once('error', onError);
    source.once('close', onClose);
  });
}

/** A stream of `head` followed by the rest of `source`, with back-pressure and errors carried through. */
function prepend(head: readonly Buffer[], source: Readable): Readable {
  const out = new PassThrough();
  for (const chunk of head) out.write(chunk);
  source.on('error', (err) => out.destroy(err));
  source.pipe(out);
  return out;
}
