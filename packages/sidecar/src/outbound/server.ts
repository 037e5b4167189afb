import { LogThrottle } from '@weft/api';
import { originalDstReader, redirectedDst, type OriginalDstReader } from '../capture/original-dst';
import type { CompiledConfig } from '../config/compiled-config';
import type { IdentityMaterial } from '../control/identity-material';
import { LISTENER_LIMITS, MuxListener, type ListenerLimits } from '../listen/mux-listener';
import { httpProtocolOf, sniff } from '../listen/sniff';
import type { ProxyListener } from '../listener';
import type { SelfInfo } from '../self';
import type { Telemetry } from '../telemetry/telemetry';
import type { Watch } from '../watch';
import { H2Sessions } from './endpoint/h2-sessions';
import { EndpointPools } from './endpoint/pools';
import { Tunnels } from './endpoint/tunnels';
import type { Http1Upstream } from './endpoint/upstream';
import { serveCaptured, type CaptureDeps } from './capture';
import { outboundStack } from './stack';
import { tunnelOpener } from './tcp-connect';

export interface OutboundOptions {
  readonly host: string;
  readonly port: number;
  readonly self: SelfInfo;
  readonly identity: Watch<IdentityMaterial>;
  readonly config: Watch<CompiledConfig>;
  readonly telemetry: Telemetry;
  /** How the app's HTTP/1.1 requests travel to peer sidecars; default DEFAULT_HTTP1_UPSTREAM. */
  readonly http1Upstream?: Http1Upstream;
  /** Slow-loris, stalled-body and header limits; default LISTENER_LIMITS. */
  readonly limits?: ListenerLimits;
  /** Reads a redirected connection's original destination; default the SO_ORIGINAL_DST addon (if built). */
  readonly originalDst?: OriginalDstReader;
}

/** A captured client that says nothing for this long is taken for a protocol whose server speaks first. */
const CAPTURED_SNIFF_MS = 1000;
const CAPTURED_CONNECT_TIMEOUT_MS = 5000;

/**
 * Pooled HTTP/1.1 between sidecars unless told otherwise: it measured faster than one
 * multiplexed HTTP/2 session per endpoint (scripts/bench-upstream-protocol.ts, design notes).
 */
export const DEFAULT_HTTP1_UPSTREAM: Http1Upstream = 'http1';

/**
 * CONTRACT: the app's calls to other services enter here, as HTTP/1.1 (Host or http_proxy),
 * HTTP/2 with prior knowledge (h2c, gRPC) or an HTTP/1.1 Upgrade, all on the one port: the first
 * bytes of a connection tell HTTP/2's preface from an HTTP/1.1 request line. Connections that
 * weft-init's iptables rules redirected here (their original destination is elsewhere) are
 * served by outbound/capture.ts instead.
 */
export async function startOutbound(options: OutboundOptions): Promise<ProxyListener> {
  const pools = new EndpointPools(options.identity);
  const sessions = new H2Sessions(options.identity);
  // Endpoints that left every destination get their connections closed when the config moves on.
  const stopPruning = options.config.subscribe((config) => {
    const live = liveEndpoints(config);
    pools.retain(live);
    sessions.retain(live);
  });
  const log = options.telemetry.log.child({ component: 'outbound' });
  // An app that retries a refused connection in a loop must not flood the log: a few lines per
  // destination a minute, then a count.
  const refusals = new LogThrottle(log, 'refused captured connections');
  const release = async (forced: boolean): Promise<void> => {
    stopPruning();
    refusals.close();
    await Promise.all([pools.close(forced), sessions.close(forced)]);
  };
  const tunnels = new Tunnels(options.identity);
  const handler = outboundStack({
    config: options.config,
    source: `${options.self.service}.${options.self.namespace}`,
    events: options.telemetry.events,
    tracing: options.telemetry.tracing,
    upstreams: { http1: pools, h2: sessions, tunnels, http1Upstream: options.http1Upstream ?? DEFAULT_HTTP1_UPSTREAM },
  });
  const limits = options.limits ?? LISTENER_LIMITS;
  const reader = options.originalDst ?? originalDstReader();
  const capture: CaptureDeps = {
    config: options.config,
    open: tunnelOpener(tunnels),
    source: `${options.self.service}.${options.self.namespace}`,
    events: options.telemetry.events,
    log,
    refusals,
    sniffMs: Math.min(CAPTURED_SNIFF_MS, limits.headersTimeoutMs),
    connectTimeoutMs: CAPTURED_CONNECT_TIMEOUT_MS,
  };
  const listener = new MuxListener({
    limits,
    handler,
    onClosed: release,
    onRapidReset: () => options.telemetry.events.emit('weft:h2-session-closed', { direction: 'outbound', reason: 'rapid-reset' }),
    onTimeout: (reason) => options.telemetry.events.emit('weft:downstream-timeout', { direction: 'outbound', reason }),
    accept: (socket, mux) => {
      // One getsockopt per connection (not per request); nothing at all without the addon.
      const dst = redirectedDst(reader, socket);
      if (dst) return serveCaptured(socket, dst, mux, capture);
      void sniff(socket, httpProtocolOf, limits.headersTimeoutMs).then((protocol) => {
        if (protocol === 'h2') mux.serveH2(socket);
        else if (protocol === 'http1') mux.serveHttp1(socket);
      });
    },
  });
  try {
    return await listener.listen(options.port, options.host);
  } catch (err) {
    await release(true);
    throw err;
  }
}

function liveEndpoints(config: CompiledConfig): Set<string> {
  const live = new Set<string>();
  for (const s of config.services.values()) for (const e of s.allEndpoints) live.add(e.address);
  return live;
}
