import type { Readable } from 'node:stream';

/**
 * The most an HTTP/2 request body may be to travel through the layers as one Buffer (bigger ones
 * stream). A unary gRPC call's message is almost always far smaller; 64 KiB is the default HTTP/2
 * stream window, so a body this small arrives without waiting for a WINDOW_UPDATE.
 */
export const WHOLE_BODY_MAX_BYTES = 64 * 1024;

/** The slice of Node's Readable state this reads (public Readable has no "END_STREAM seen" flag). */
interface ReadableWithState {
  readonly _readableState?: { readonly ended?: boolean };
}

/**
 * True when an HTTP/2 stream's body has already ended (END_STREAM received) with all of it still
 * buffered and at most `WHOLE_BODY_MAX_BYTES`: nobody has read from it, so `takeWholeBody` hands
 * it over as one Buffer instead of a stream, a pipe and their listeners per request.
 */
export function endedWithin(stream: Readable): boolean {
  const state = (stream as ReadableWithState)._readableState;
  return state?.ended === true && stream.readableFlowing === null && stream.readableLength <= WHOLE_BODY_MAX_BYTES;
}

/**
 * The whole body of a stream for which `endedWithin` held, as one Buffer (empty when the stream
 * ended without DATA). The stream then emits 'end' as if it had been read to the end.
 */
export function takeWholeBody(stream: Readable): Buffer {
  const chunk = stream.read() as Buffer | null;
  return chunk ?? EMPTY;
}

const EMPTY = Buffer.alloc(0);
