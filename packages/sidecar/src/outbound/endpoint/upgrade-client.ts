import { request } from 'node:http';
import type { Destination } from '../../config/types';
import { UpstreamResetError } from '../../layers/errors';
import type { HeaderMap, ProxyResponse, Service } from '../../layers/service';
import type { EndpointRequest } from './client';
import type { TunnelSource } from './tunnels';

export interface UpgradeEndpointRequest extends EndpointRequest {
  /** The `Upgrade` token the app asked for (`websocket`). */
  readonly upgrade: string | undefined;
}

/**
 * Carries an HTTP/1.1 Upgrade request to the peer sidecar on a connection of its own (an
 * upgraded connection is never reused), and resolves with the peer's answer: a 101 brings the
 * connection along as the response's `tunnel`, anything else is an ordinary response.
 */
export function upgradeClient(destination: Destination, tunnels: TunnelSource): Service<UpgradeEndpointRequest> {
  return async (req) => {
    req.record.phase = 'connect';
    const socket = await tunnels.connect(req.endpoint.address, destination, 'http/1.1', req.signal);
    req.record.phase = 'response headers';
    return new Promise<ProxyResponse>((resolve, reject) => {
      const headers = { ...req.headers, connection: 'Upgrade', upgrade: req.upgrade ?? '' };
      const out = request({ method: req.method, path: req.target, headers, createConnection: () => socket });
      const onAbort = (): void => {
        out.destroy();
        reject(req.signal.reason as Error);
      };
      req.signal.addEventListener('abort', onAbort, { once: true });
      const settled = (): void => req.signal.removeEventListener('abort', onAbort);
      out.once('upgrade', (res, tunnel, head: Buffer) => {
        settled();
        if (head.length > 0) tunnel.unshift(head); // the peer's first bytes of the new protocol
        resolve({ status: 101, headers: res.headers as HeaderMap, body: null, tunnel });
      });
      out.once('response', (res) => {
        settled();
        resolve({ status: res.statusCode ?? 502, headers: res.headers as HeaderMap, body: res });
      });
      out.on('error', (err) => {
        settled();
        reject(req.signal.aborted ? (req.signal.reason as Error) : new UpstreamResetError(destination.key, req.endpoint.address, err));
      });
      out.end();
    });
  };
}
