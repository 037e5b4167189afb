import type { Readable, Writable } from 'node:stream';
import type { Framing } from './write-head';

/** A streamed body did not have the length its head announced. */
export class BodyLengthError extends Error {
  readonly code = 'WEFT_BODY_LENGTH_MISMATCH';
  constructor(announced: number, sent: number) {
    super(`the body was ${sent > announced ? 'longer' : 'shorter'} than its content-length (${announced})`);
  }
}

const LAST_CHUNK = '0\r\n\r\n';
const noTrailers = (): string => LAST_CHUNK;

/**
 * Writes a streamed body after its head, framed as the head said: chunk by chunk (each with its
 * size line), or as it comes, counted against the announced length (`raw`: delimited by the close). The connection's
 * back-pressure pauses the body. `done` runs once, when the last byte was handed to the
 * connection, or with the error that stopped it (the body's own, or a length that does not
 * match); the caller then closes the connection, whose framing can no longer be trusted.
 * `lastChunk` gives the chunked body's end, trailers and all (read when the body ends).
 * Returns a function that stops the writing without calling `done` (the exchange ended another way).
 */
export function writeBody(body: Readable, to: Writable, framing: Framing | 'raw', done: (err: Error | undefined) => void, lastChunk: () => string = noTrailers): () => void {
  let sent = 0;
  let finished = false;
  const finish = (err: Error | undefined, notify = true): void => {
    if (finished) return;
    finished = true;
    body.off('data', onData);
    body.off('end', onEnd);
    body.off('error', onError);
    body.off('close', onClose);
    to.off('drain', onDrain);
    if (notify) done(err);
  };
  const onDrain = (): void => void body.resume();
  const onData = (data: Buffer | string): void => {
    // A stream of strings (Readable.from(['é'])) is framed by its bytes, not its characters.
    const chunk = typeof data === 'string' ? Buffer.from(data) : data;
    if (chunk.length === 0) return;
    sent += chunk.length;
    let ok: boolean;
    if (framing === 'chunked') {
      to.cork();
      to.write(`${chunk.length.toString(16)}\r\n`, 'latin1');
      to.write(chunk);
      ok = to.write('\r\n', 'latin1');
      to.uncork();
    } else {
      if (framing !== 'raw' && sent > framing) return finish(new BodyLengthError(framing, sent));
      ok = to.write(chunk);
    }
    if (!ok) {
      body.pause();
      to.once('drain', onDrain);
    }
  };
  const onEnd = (): void => {
    if (framing === 'chunked') to.write(lastChunk(), 'latin1');
    else if (framing !== 'raw' && sent !== framing) return finish(new BodyLengthError(framing, sent));
    finish(undefined);
  };
  const onError = (err: Error): void => finish(err);
  // Destroyed without an error (its client left): the body is cut short all the same.
  const onClose = (): void => finish(new Error('the body was cut short'));
  // A body that ended or closed before the writing began will not say so again.
  if (body.readableEnded) {
    onEnd();
    return () => undefined;
  }
  if (body.destroyed) {
    onClose();
    return () => undefined;
  }
  body.on('data', onData);
  body.once('end', onEnd);
  body.once('error', onError);
  body.once('close', onClose);
  return () => finish(undefined, false);
}
