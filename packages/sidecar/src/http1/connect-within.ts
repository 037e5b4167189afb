import type { Socket } from 'node:net';

/**
 * Waits for a connection a pool is opening (http1/pool.ts) to be ready: `ready` is 'connect' for
 * TCP, 'secureConnect' once TLS is done. If it is not within `timeoutMs` it is destroyed with
 * `timedOut()`; exactly one of `onReady` and `onFailed` runs, and the failure listener is gone by
 * the time `onReady` does (the connection then owns the socket's errors).
 */
export function connectWithin(socket: Socket, ready: 'connect' | 'secureConnect', timeoutMs: number, timedOut: () => Error, onReady: () => void, onFailed: (err: Error) => void): void {
  const timer = setTimeout(() => socket.destroy(timedOut()), timeoutMs);
  const onError = (err: Error): void => {
    clearTimeout(timer);
    onFailed(err);
  };
  socket.once('error', onError);
  socket.once(ready, () => {
    clearTimeout(timer);
    socket.off('error', onError);
    onReady();
  });
}
