import { createServer } from 'node:http';
import { BadRequestError } from '../layers/errors';
import type { CompiledConfig } from '../config/compiled-config';
import type { IdentityMaterial } from '../control/identity-material';
import { DrainingListener } from '../layers/proxy-listener';
import type { ProxyListener } from '../listener';
import type { SelfInfo } from '../self';
import type { Telemetry } from '../telemetry/telemetry';
import type { Watch } from '../watch';
import { EndpointPools } from './endpoint/pools';
import { outboundStack } from './stack';

export interface OutboundOptions {
  readonly host: string;
  readonly port: number;
  readonly self: SelfInfo;
  readonly identity: Watch<IdentityMaterial>;
  readonly config: Watch<CompiledConfig>;
  readonly telemetry: Telemetry;
}

/** CONTRACT: the app's calls to other services enter here (plain HTTP/1.1, Host or http_proxy). */
export async function startOutbound(options: OutboundOptions): Promise<ProxyListener> {
  const pools = new EndpointPools(options.identity);
  // Endpoints that left every destination get their pools closed when the config moves on.
  const stopPruning = options.config.subscribe((config) => pools.retain(liveEndpoints(config)));
  const handler = outboundStack({
    config: options.config,
    source: `${options.self.service}.${options.self.namespace}`,
    events: options.telemetry.events,
    tracing: options.telemetry.tracing,
    dispatchers: pools,
  });
  // No overall request timeout on the app's side: a long upload is the route timeout's business.
  // Slow headers are still cut by Node's headersTimeout.
  const server = createServer({ requestTimeout: 0 });
  rejectUnproxiable(server);
  const listener = new DrainingListener(server, handler, async (forced) => {
    stopPruning();
    await pools.close(forced);
  });
  try {
    return await listener.listen(options.port, options.host);
  } catch (err) {
    stopPruning();
    await pools.close(true);
    throw err;
  }
}

function liveEndpoints(config: CompiledConfig): Set<string> {
  const live = new Set<string>();
  for (const s of config.services.values()) for (const e of s.allEndpoints) live.add(e.address);
  return live;
}

/**
 * What never reaches the stack: bytes Node cannot parse as HTTP get a 400 (never a crash), and
 * CONNECT (HTTPS through a proxy) a 405, since the sidecar must see requests to route them.
 */
function rejectUnproxiable(server: ReturnType<typeof createServer>): void {
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    else socket.destroy();
  });
  server.on('connect', (_req, socket) => {
    const e = new BadRequestError('CONNECT is not supported: call http://<service>; the sidecar encrypts the hop with mTLS', 405);
    const body = `${e.message}\n`;
    socket.end(
      `HTTP/1.1 405 Method Not Allowed\r\nx-weft-error: ${e.code}\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  });
}
