import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { createServer as createTlsServer, type SecureContextOptions, type TLSSocket } from 'node:tls';
import { originalDstReader, redirectedDst, type OriginalDstReader } from '../capture/original-dst';
import type { CompiledConfig } from '../config/compiled-config';
import type { IdentityMaterial } from '../control/identity-material';
import { H2Connection } from '../http/h2-connection';
import { LISTENER_LIMITS, MuxListener, type ListenerLimits } from '../listen/mux-listener';
import { sniff } from '../listen/sniff';
import type { ProxyListener } from '../listener';
import type { SelfInfo } from '../self';
import type { Telemetry } from '../telemetry/telemetry';
import type { Watch } from '../watch';
import { AppPool } from './app-pool';
import type { AppProtocol, LocalApp } from './local-app';
import { detectInbound, inboundAlpn } from './protocol-detect';
import { inboundStack } from './stack';
import { terminateTcp, type TcpTerminateDeps } from './tcp-terminate';

export interface InboundOptions {
  readonly host: string;
  readonly port: number;
  /** The local app, reached on 127.0.0.1 unless appHost says otherwise. */
  readonly appPort: number;
  readonly appHost?: string;
  /** What the app speaks (`--app-protocol`); default auto (the protocol its caller spoke). */
  readonly appProtocol?: AppProtocol;
  readonly self: SelfInfo;
  readonly identity: Watch<IdentityMaterial>;
  readonly config: Watch<CompiledConfig>;
  readonly telemetry: Telemetry;
  /** Slow-loris, stalled-body and header limits; default LISTENER_LIMITS. */
  readonly limits?: ListenerLimits;
  /** Reads a redirected connection's original destination; default the SO_ORIGINAL_DST addon (if built). */
  readonly originalDst?: OriginalDstReader;
}

/** Idle connections to the app are closed before a typical app's 5 s keep-alive timeout can race us. */
const APP_KEEP_ALIVE_MS = 4000;
const APP_CONNECT_TIMEOUT_MS = 5000;
const APP_H2_IDLE_MS = 60_000;

/**
 * CONTRACT: other sidecars reach this instance here, over mTLS (ALPN `h2` or `http/1.1` for an
 * HTTP app, `weft-tcp` for a TCP app). MeshConfig `mtls: PERMISSIVE` also lets plaintext in;
 * the mode is read for each new connection, so a change applies without a restart. Connections
 * weft-init redirected here from another local port than the app's are relayed to that port as
 * plain TCP in PERMISSIVE mode (a non-mesh client, no identity) and refused in STRICT.
 */
export async function startInbound(options: InboundOptions): Promise<ProxyListener> {
  const appProtocol = options.appProtocol ?? 'auto';
  const limits = options.limits ?? LISTENER_LIMITS;
  const material = options.identity.current;
  const log = options.telemetry.log.child({ component: 'inbound' });
  // Only mesh workloads complete the handshake: a client certificate chained to the trust bundle
  // is required. Until the first certificate arrives every handshake fails ("not ready").
  const tls = createTlsServer({
    requestCert: true,
    rejectUnauthorized: true,
    ...(material ? secureContext(material, minTLS(options.config)) : { minVersion: 'TLSv1.3' }),
    ALPNProtocols: inboundAlpn(appProtocol),
    handshakeTimeout: limits.headersTimeoutMs,
  });
  tls.on('tlsClientError', () => undefined); // a failed handshake is the client's to report
  // A renewed certificate or bundle, or a new minimum TLS version, applies to new handshakes;
  // open connections keep theirs. New ticket keys with it: a session resumes without its client
  // certificate being verified again, so sessions issued under the previous bundle must not resume.
  let minVersion = minTLS(options.config);
  const applyContext = (m: IdentityMaterial | undefined): void => {
    if (!m) return;
    try {
      tls.setSecureContext(secureContext(m, minVersion));
      tls.setTicketKeys(randomBytes(48));
    } catch (err) {
      // Unusable material must not take down whoever delivered it; the previous context stays.
      log.error('cannot use the new certificate for inbound TLS; keeping the previous one', { error: err });
    }
  };
  const offIdentity = options.identity.subscribe(applyContext);
  const offConfig = options.config.subscribe((cfg) => {
    if (cfg.mesh.minTLSVersion === minVersion) return;
    minVersion = cfg.mesh.minTLSVersion;
    applyContext(options.identity.current);
  });
  const unsubscribe = (): void => {
    offIdentity();
    offConfig();
  };
  const host = options.appHost ?? '127.0.0.1';
  const app: LocalApp = {
    host,
    port: options.appPort,
    protocol: appProtocol,
    http1: new AppPool({ host, port: options.appPort, keepAliveMs: APP_KEEP_ALIVE_MS, connectTimeoutMs: APP_CONNECT_TIMEOUT_MS }),
    h2: appProtocol === 'h2c' || appProtocol === 'auto' ? new H2Connection({ authority: `http://${host}:${options.appPort}`, connectTimeoutMs: APP_CONNECT_TIMEOUT_MS, idleTimeoutMs: APP_H2_IDLE_MS }) : undefined,
  };
  const destination = `${options.self.service}.${options.self.namespace}`;
  const tcp: TcpTerminateDeps = {
    app,
    config: options.config,
    destination,
    events: options.telemetry.events,
    connectTimeoutMs: APP_CONNECT_TIMEOUT_MS,
    onRefused: (err) => log.warn('TCP connection refused', { code: err.code, reason: err.message }),
  };
  const release = async (forced: boolean): Promise<void> => {
    unsubscribe();
    await app.http1.close();
    await app.h2?.close(forced);
  };
  const reader = options.originalDst ?? originalDstReader();
  const listener = new MuxListener({
    limits,
    handler: inboundStack({ config: options.config, service: options.self.service, spiffeId: options.self.spiffeId, destination, events: options.telemetry.events, tracing: options.telemetry.tracing, app }),
    onClosed: release,
    onRapidReset: () => options.telemetry.events.emit('weft:h2-session-closed', { direction: 'inbound', reason: 'rapid-reset' }),
    onTimeout: (reason) => options.telemetry.events.emit('weft:downstream-timeout', { direction: 'inbound', reason }),
    accept: (socket: Socket, mux) => {
      const mode = options.config.current?.mesh.mtls ?? 'STRICT';
      const dst = redirectedDst(reader, socket);
      if (dst && dst.port !== options.appPort) {
        if (mode === 'PERMISSIVE') mux.track(terminateTcp(socket, null, { ...tcp, app: { host, port: dst.port } }), socket);
        else socket.destroy();
        return;
      }
      void sniff(socket, (head) => detectInbound(head, mode, appProtocol), limits.headersTimeoutMs).then((kind) => {
        if (kind === 'tls') tls.emit('connection', socket);
        else if (kind === 'h2') mux.serveH2(socket);
        else if (kind === 'http1') mux.serveHttp1(socket);
        else if (kind === 'tcp') mux.track(terminateTcp(socket, null, tcp), socket);
        else if (kind === 'refused') socket.destroy(); // plaintext in STRICT mode
      });
    },
  });
  // After the handshake, ALPN says what the peer sidecar speaks on this connection.
  tls.on('secureConnection', (socket: TLSSocket) => {
    if (resumedPastExpiry(socket)) return void socket.destroy();
    const alpn = socket.alpnProtocol;
    if (appProtocol === 'tcp') {
      if (alpn === 'weft-tcp') listener.track(terminateTcp(socket, socket, tcp), socket);
      else socket.destroy();
    } else if (alpn === 'h2') listener.serveH2(socket);
    else listener.serveHttp1(socket); // `http/1.1`, or no ALPN at all (older clients, probes)
  });
  try {
    return await listener.listen(options.port, options.host);
  } catch (err) {
    await release(true);
    throw err;
  }
}

/**
 * A resumed TLS session (sessions between sidecars resume: outbound/endpoint/peer-connector.ts)
 * is not verified again: the client certificate it was proven with must not keep resuming past
 * its expiry, which is the mesh's revocation (docs/security.md).
 */
function resumedPastExpiry(socket: TLSSocket): boolean {
  if (!socket.isSessionReused()) return false;
  const cert = socket.getPeerX509Certificate();
  return cert === undefined || Date.parse(cert.validTo) <= Date.now();
}

function secureContext(m: IdentityMaterial, minVersion: 'TLSv1.2' | 'TLSv1.3'): SecureContextOptions {
  return {
    cert: m.certificateChainPem.join(''),
    key: m.privateKeyPem,
    ca: [...m.trustBundlePem],
    minVersion,
  };
}

/** MeshConfig `minTLSVersion` in force; TLS 1.3 before the first config. */
function minTLS(config: Watch<CompiledConfig>): 'TLSv1.2' | 'TLSv1.3' {
  return config.current?.mesh.minTLSVersion ?? 'TLSv1.3';
}
