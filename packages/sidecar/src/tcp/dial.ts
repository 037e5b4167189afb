import { connect } from 'node:net';
import type { Duplex } from 'node:stream';
import { AppUnavailableError } from '../layers/errors';

/**
 * A plain TCP connection to HOST:PORT (the local app, or a captured connection's original
 * destination), failing with AppUnavailableError when it cannot be made within `timeoutMs`.
 */
export function dialTcp(host: string, port: number, timeoutMs: number): Promise<Duplex> {
  const where = `${host}:${port}`;
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, allowHalfOpen: true, noDelay: true });
    const timer = setTimeout(() => socket.destroy(new Error(`no connection within ${timeoutMs}ms`)), timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', onError);
      socket.on('error', () => undefined); // the splice reports it from here on
      resolve(socket);
    });
    const onError = (err: Error): void => {
      clearTimeout(timer);
      reject(new AppUnavailableError(where, err));
    };
    socket.once('error', onError);
  });
}
