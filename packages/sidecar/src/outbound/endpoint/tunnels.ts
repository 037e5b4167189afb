import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import type { Destination } from '../../config/types';
import { parseHostPort } from '../../control/address';
import type { IdentityMaterial } from '../../control/identity-material';
import { ConnectError, NotReadyError, ProxyError } from '../../layers/errors';
import type { Watch } from '../../watch';
import { DEFAULT_CONNECT_TIMEOUT_MS } from './h2-sessions';
import { tlsClientOptions } from './tls-originate';
import type { CancelSignal } from '../../layers/cancel';

/**
 * What a tunnel asks the peer's inbound for, by ALPN: an HTTP/1.1 connection that will be
 * upgraded (WebSocket), or raw bytes for the app (`weft-tcp`).
 */
export type TunnelProtocol = 'http/1.1' | 'weft-tcp';

export interface TunnelSource {
  connect(endpoint: string, destination: Destination, protocol: TunnelProtocol, signal: CancelSignal): Promise<TLSSocket>;
}

/**
 * Opens one mTLS connection to a peer sidecar per tunnel (tunnels are long-lived and never
 * pooled), with the identity pinning of tls-originate and the ALPN protocol checked: a peer that
 * did not agree to `protocol` is refused, so bytes never reach a listener that would misread them.
 */
export class Tunnels implements TunnelSource {
  readonly #identity: Watch<IdentityMaterial>;

  constructor(identity: Watch<IdentityMaterial>) {
    this.#identity = identity;
  }

  connect(endpoint: string, destination: Destination, protocol: TunnelProtocol, signal: CancelSignal): Promise<TLSSocket> {
    const material = this.#identity.current;
    if (!material) return Promise.reject(new NotReadyError('certificate'));
    if (signal.aborted) return Promise.reject(signal.reason as Error);
    const timeoutMs = destination.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    return new Promise((resolve, reject) => {
      let target;
      try {
        target = parseHostPort(endpoint, 'the endpoint address');
      } catch (err) {
        return reject(new ConnectError(destination.key, endpoint, err));
      }
      // Half-open (honoured by tls.connect, missing from its types): a client that shuts down its
      // sending side still gets the rest of the answer.
      const options: ConnectionOptions & { allowHalfOpen: boolean } = {
        ...target,
        ...tlsClientOptions(material, destination, endpoint),
        ALPNProtocols: [protocol],
        allowHalfOpen: true,
      };
      const socket = tlsConnect(options);
      socket.on('error', () => undefined); // reported below before the tunnel is up, by whoever splices it after
      const settle = (err: Error | undefined): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        socket.off('error', onError);
        if (!err) return resolve(socket);
        socket.destroy();
        reject(err instanceof ProxyError || err === signal.reason ? err : new ConnectError(destination.key, endpoint, err));
      };
      const onError = (err: Error): void => settle(err);
      const onAbort = (): void => settle(signal.reason as Error);
      const timer = setTimeout(() => settle(new Error(`no connection within ${timeoutMs}ms (connectTimeout)`)), timeoutMs);
      socket.once('error', onError);
      signal.addEventListener('abort', onAbort, { once: true });
      socket.once('secureConnect', () => {
        if (socket.alpnProtocol === protocol) return settle(undefined);
        settle(new Error(`the peer sidecar does not accept ${protocol} (ALPN ${socket.alpnProtocol || 'none'}): is the destination's app protocol right?`));
      });
    });
  }
}
