import type { Destination } from '../../config/types';
import { HTTP1_CALLER } from '../../http/caller-protocol';
import type { HttpProtocol } from '../../http/downstream';
import type { Service } from '../../layers/service';
import { endpointClient, type EndpointDispatchers } from './client';
import { h2Client, type H2EndpointRequest } from './h2-client';
import type { H2SessionSource } from './h2-sessions';
import type { TunnelSource } from './tunnels';
import { upgradeClient, type UpgradeEndpointRequest } from './upgrade-client';

/** How the app's HTTP/1.1 requests travel between sidecars. */
export type Http1Upstream = 'http1' | 'h2';

/** Every way to reach a peer sidecar; one set per outbound listener. */
export interface Upstreams {
  /** Pooled HTTP/1.1 keep-alive connections (H1Pool). */
  readonly http1: EndpointDispatchers;
  /** One multiplexed HTTP/2 session per endpoint. */
  readonly h2: H2SessionSource;
  /** Single connections for upgraded protocols. */
  readonly tunnels: TunnelSource;
  readonly http1Upstream: Http1Upstream;
}

export interface UpstreamRequest extends H2EndpointRequest, UpgradeEndpointRequest {
  /** What the app spoke to the outbound listener. */
  readonly protocol: HttpProtocol;
}

/**
 * The endpoint client for one destination: the hop to the peer sidecar keeps HTTP/2 for what
 * the app sent as HTTP/2 (gRPC needs its streams and trailers), carries HTTP/1.1 as configured
 * (pooled HTTP/1.1, or multiplexed HTTP/2 marked `x-weft-caller-protocol: http1`, so that the
 * peer still speaks HTTP/1.1 to an app whose protocol is not declared), and gives an Upgrade a
 * connection of its own.
 */
export function upstreamClient(destination: Destination, upstreams: Upstreams): Service<UpstreamRequest> {
  const h2 = h2Client(destination, upstreams.h2);
  const http1 = upstreams.http1Upstream === 'h2' ? (req: UpstreamRequest) => h2({ ...req, headers: { ...req.headers, ...HTTP1_CALLER } }) : endpointClient(destination, upstreams.http1);
  const upgrade = upgradeClient(destination, upstreams.tunnels);
  return (req) => (req.upgrade !== undefined ? upgrade(req) : req.protocol === 'h2' ? h2(req) : http1(req));
}
