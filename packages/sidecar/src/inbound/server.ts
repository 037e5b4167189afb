import { Agent } from 'node:http';
import { createServer } from 'node:https';
import type { SecureContextOptions } from 'node:tls';
import { createLogger } from '@weft/api';
import type { CompiledConfig } from '../config/compiled-config';
import type { IdentityMaterial } from '../control/identity-material';
import { DrainingListener } from '../layers/proxy-listener';
import type { ProxyListener } from '../listener';
import type { SelfInfo } from '../self';
import type { Telemetry } from '../telemetry/telemetry';
import type { Watch } from '../watch';
import { inboundStack } from './stack';

export interface InboundOptions {
  readonly host: string;
  readonly port: number;
  /** The local app, reached on 127.0.0.1 unless appHost says otherwise. */
  readonly appPort: number;
  readonly appHost?: string;
  readonly self: SelfInfo;
  readonly identity: Watch<IdentityMaterial>;
  readonly config: Watch<CompiledConfig>;
  readonly telemetry: Telemetry;
}

/** Idle connections to the app are closed before a typical app's 5 s keep-alive timeout can race us. */
const APP_KEEP_ALIVE_MS = 4000;

/** CONTRACT: other sidecars reach this instance here, over mTLS. */
export async function startInbound(options: InboundOptions): Promise<ProxyListener> {
  const material = options.identity.current;
  // Only mesh workloads get a response: a client certificate chained to the trust bundle is
  // required, and the handshake fails without one. Until the first certificate arrives every
  // handshake fails, which is what "not ready" means on this port.
  const server = createServer({
    requestCert: true,
    rejectUnauthorized: true,
    ...(material ? secureContext(material) : { minVersion: 'TLSv1.3' }),
    requestTimeout: 0,
  });
  // A renewed certificate or bundle applies to new handshakes; open connections keep theirs.
  const log = createLogger('inbound', { proxyId: options.self.proxyId });
  const unsubscribe = options.identity.subscribe((m) => {
    try {
      server.setSecureContext(secureContext(m));
    } catch (err) {
      // Unusable material must not take down whoever delivered it; the previous context stays.
      log.error('cannot use the new certificate for inbound TLS; keeping the previous one', { error: err });
    }
  });
  const agent = new Agent({ keepAlive: true, timeout: APP_KEEP_ALIVE_MS });
  const handler = inboundStack({
    config: options.config,
    service: options.self.service,
    destination: `${options.self.service}.${options.self.namespace}`,
    events: options.telemetry.events,
    tracing: options.telemetry.tracing,
    app: { host: options.appHost ?? '127.0.0.1', port: options.appPort, agent },
  });
  const listener = new DrainingListener(server, handler, async () => {
    unsubscribe();
    agent.destroy();
  });
  try {
    return await listener.listen(options.port, options.host);
  } catch (err) {
    unsubscribe();
    agent.destroy();
    throw err;
  }
}

function secureContext(m: IdentityMaterial): SecureContextOptions {
  return {
    cert: m.certificateChainPem.join(''),
    key: m.privateKeyPem,
    ca: [...m.trustBundlePem],
    minVersion: 'TLSv1.3',
  };
}
