import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger, DEFAULT_NAMESPACE, DEFAULT_PORTS, NAME_RE, WeftError, type Logger } from '@weft/api';
import { buildConfigView } from './admin/config-view';
import { DnsServer } from './capture/dns-server';
import { originalDstReader } from './capture/original-dst';
import { LifecycleMetrics } from './admin/lifecycle-metrics';
import { factsOf, readinessOf, type StatusParts } from './admin/status';
import { AdminServer, type Readiness } from './admin/server';
import type { CompiledConfig } from './config/compiled-config';
import { formatHostPort, parseHostMaybePort, parseHostPort } from './control/address';
import { ControlPlaneAddresses } from './control/control-plane-addresses';
import type { BackoffOptions } from './control/backoff';
import { bootstrapIdentity, type Bootstrapped } from './control/bootstrap';
import { ControlClient, type CompileFn, type ObserveHandler } from './control/control-client';
import { ConsulRegistration } from './control/consul-registration';
import type { IdentityMaterial } from './control/identity-material';
import { JoinToken } from './control/join-token';
import { proxyVersion } from './control/proxy-version';
import type { AppProtocol } from './inbound/local-app';
import { startInbound, type InboundOptions } from './inbound/server';
import { LISTENER_LIMITS, type ListenerLimits } from './layers/mux-listener';
import { ListenError, type ListenerKind } from './listen-error';
import { untilQuiet } from './app-quiet';
import type { ProxyListener } from './listener';
import type { Http1Upstream } from './outbound/endpoint/upstream';
import { startOutbound, type OutboundOptions } from './outbound/server';
import { startTcpForward, type TcpForward } from './outbound/tcp-forward';
import type { SelfInfo } from './self';
import { Observer } from './telemetry/observe/observer';
import { describeOtlpClient, type OtlpClientSettings } from './telemetry/otlp-client';
import { Telemetry } from './telemetry/telemetry';
import { Watch } from './watch';

export interface SidecarOptions {
  readonly service: string;
  readonly namespace?: string;
  readonly appPort: number;
  readonly appHost?: string;
  /** What the app speaks: http1 (default), h2c (gRPC servers) or tcp. */
  readonly appProtocol?: AppProtocol;
  /** How the app's HTTP/1.1 requests travel to peer sidecars (default: pooled HTTP/1.1). */
  readonly http1Upstream?: Http1Upstream;
  /** Local TCP ports whose connections go to a service (`--tcp-forward`). */
  readonly tcpForwards?: readonly TcpForward[];
  /** Serve DNS for mesh names on 127.0.0.1:dnsPort (see capture/dns-server.ts); undefined: none. */
  readonly dnsPort?: number;
  /** The control plane's gRPC address, HOST:PORT, or several replicas' (HOST:PORT,HOST:PORT), tried in turn. */
  readonly controlPlane: string;
  /** The join token text (`weft1....`). */
  readonly token: string;
  readonly labels?: Readonly<Record<string, string>>;
  /** 0 picks a free port; `ports` on the result says which. */
  readonly inboundPort?: number;
  readonly outboundPort?: number;
  readonly adminPort?: number;
  readonly bindInbound?: string;
  readonly bindAdmin?: string;
  /** Serve /config to callers not on loopback too (default: loopback only). */
  readonly adminRemoteConfig?: boolean;
  /** Inbound address other sidecars use: HOST:PORT, or HOST alone for HOST:<inbound port>. Defaults to 127.0.0.1:<inbound port>. */
  readonly advertiseAddress?: string;
  readonly drainTimeoutMs?: number;
  /** How long a request body may stall before its exchange is cut (`--body-idle-timeout`); default LISTENER_LIMITS. */
  readonly bodyIdleTimeoutMs?: number;
  /** On SIGTERM the app's ports stay open until the app made no call for this long (default 1 s). */
  readonly drainQuietMs?: number;
  readonly logger?: Logger;
  /** Aborting cancels start-up (SIGTERM while still waiting for the control plane). */
  readonly signal?: AbortSignal;
  readonly overrides?: SidecarOverrides;
  /** Register this instance in Consul once ready, deregister on drain (`--consul-register`). */
  readonly consulRegister?: ConsulRegisterOptions;
  /** TLS and headers for span export, from files on this host (`--otlp-*-file`); never in /config. */
  readonly otlpClient?: OtlpClientSettings;
}

export interface ConsulRegisterOptions {
  /** A Consul agent's HTTP API, HOST:PORT. */
  readonly address: string;
  readonly token?: string;
  /** How often Consul polls the admin /ready (default 10 s). */
  readonly checkIntervalMs?: number;
}

/**
 * Seams for tests and embedding; deliberately not reachable from the command line. Lets a test run
 * the control side with stand-in listeners or a stand-in compiler, and with short timings.
 */
export interface SidecarOverrides {
  readonly compile?: CompileFn;
  readonly startOutbound?: (options: OutboundOptions) => Promise<ProxyListener>;
  readonly startInbound?: (options: InboundOptions) => Promise<ProxyListener>;
  readonly bootBackoff?: BackoffOptions;
  readonly reconnectBackoff?: BackoffOptions;
  readonly renewBackoff?: BackoffOptions;
  /** How long a draining sidecar waits for callers to learn it is gone (default 1 s). */
  readonly announceMs?: number;
}

export interface SidecarPorts {
  readonly outbound: number;
  readonly inbound: number;
  readonly admin: number;
}

export interface RunningSidecar {
  readonly self: SelfInfo;
  readonly ports: SidecarPorts;
  readonly identity: Watch<IdentityMaterial>;
  readonly config: Watch<CompiledConfig>;
  readiness(): Readiness;
  /** Resolves once the sidecar is ready (certificate, first config, listeners up). */
  whenReady(): Promise<void>;
  /** SIGTERM behaviour: withdraw, let in-flight requests finish up to the drain timeout, stop. */
  drain(): Promise<void>;
  /** Stops at once (in-flight requests are cut). */
  close(): Promise<void>;
}

const DEFAULT_DRAIN_TIMEOUT_MS = 10_000;
const DEFAULT_DRAIN_QUIET_MS = 1_000;

/** Options that cannot work (a service name that is not a DNS label, ...). */
export class SidecarError extends WeftError {
  declare readonly code: 'WEFT_ERR_BAD_OPTION';

  constructor(message: string) {
    super('WEFT_ERR_BAD_OPTION', message);
  }
}

/**
 * Wires a sidecar: admin port first (so probes get answers while we wait for the control plane),
 * then trust and identity, the two listeners, and the discovery stream. Ready once the first
 * config is in force and the listeners are up.
 */
export async function startSidecar(options: SidecarOptions): Promise<RunningSidecar> {
  const namespace = options.namespace ?? DEFAULT_NAMESPACE;
  for (const [what, name] of [['service', options.service], ['namespace', namespace]] as const) {
    if (!NAME_RE.test(name)) throw new SidecarError(`${what} ${JSON.stringify(name)} must be a DNS label (lower-case letters, digits, '-')`);
  }
  const advertise = options.advertiseAddress === undefined ? undefined : parseHostMaybePort(options.advertiseAddress, 'the advertise address');
  const token = JoinToken.parse(options.token);
  const addresses = ControlPlaneAddresses.parse(options.controlPlane);
  const proxyId = randomUUID();
  const logger = (options.logger ?? createLogger('sidecar')).child({ proxyId });
  const o = options.overrides ?? {};
  const sidecar = new Sidecar(proxyId, options.service, namespace, addresses.toString(), options.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS, options.drainQuietMs ?? DEFAULT_DRAIN_QUIET_MS, o.announceMs ?? 1_000, logger);
  await sidecar.startAdmin(options.bindAdmin ?? '0.0.0.0', options.adminPort ?? DEFAULT_PORTS.sidecarAdmin, options.adminRemoteConfig ?? false);
  try {
    const boot = await bootstrapIdentity({
      addresses, token, service: options.service, namespace, logger, identity: sidecar.identity, proxyId,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(o.bootBackoff ? { backoff: o.bootBackoff } : {}),
      ...(o.renewBackoff ? { renewBackoff: o.renewBackoff } : {}),
    });
    const self: SelfInfo = Object.freeze({
      proxyId, service: options.service, namespace, trustDomain: boot.trust.trustDomain, spiffeId: boot.spiffeId,
      labels: Object.freeze({ ...options.labels }),
    });
    const telemetry = sidecar.attach(self, boot, options.otlpClient);
    const limits: ListenerLimits = { ...LISTENER_LIMITS, bodyIdleTimeoutMs: options.bodyIdleTimeoutMs ?? LISTENER_LIMITS.bodyIdleTimeoutMs };
    const common = { self, identity: sidecar.identity, config: sidecar.config, telemetry };
    await sidecar.addListener('outbound', '127.0.0.1', options.outboundPort ?? DEFAULT_PORTS.sidecarOutbound, (host, port) => (o.startOutbound ?? startOutbound)({
      ...common, host, port, limits,
      ...(options.http1Upstream ? { http1Upstream: options.http1Upstream } : {}),
    }));
    const inbound = await sidecar.addListener('inbound', options.bindInbound ?? '0.0.0.0', options.inboundPort ?? DEFAULT_PORTS.sidecarInbound, (host, port) => (o.startInbound ?? startInbound)({
      ...common, host, port, limits,
      appPort: options.appPort, ...(options.appHost ? { appHost: options.appHost } : {}),
      ...(options.appProtocol ? { appProtocol: options.appProtocol } : {}),
    }));
    for (const forward of options.tcpForwards ?? []) {
      await sidecar.addListener('tcp-forward', '127.0.0.1', forward.localPort, (host) => startTcpForward({ ...common, host, forward }));
    }
    if (options.dnsPort !== undefined) {
      await sidecar.addListener('dns', '127.0.0.1', options.dnsPort, (host, port) => DnsServer.start({ host, port, config: sidecar.config, log: logger.child({ component: 'dns' }) }));
    }
    const capture = originalDstReader();
    if (!capture.available) logger.info('transparent capture is unavailable; serving as an explicit proxy only', { reason: capture.reason });
    const advertiseAddress = formatHostPort({ host: advertise?.host ?? '127.0.0.1', port: advertise?.port ?? inbound.port });
    sidecar.connect(new ControlClient({
      addresses, trustDomain: self.trustDomain, self, identity: sidecar.identity, config: sidecar.config, advertiseAddress, appPort: options.appPort,
      proxyVersion: proxyVersion(), logger: logger.child({ component: 'control-client' }),
      onSigningRoot: (root) => boot.identityClient.renewUnlessFrom(root),
      observer: sidecar.observer(self),
      ...(o.compile ? { compile: o.compile } : {}),
      ...(o.reconnectBackoff ? { backoff: o.reconnectBackoff } : {}),
    }));
    if (options.consulRegister) {
      const adminHost = options.bindAdmin && !['0.0.0.0', '::'].includes(options.bindAdmin) ? options.bindAdmin : (advertise?.host ?? '127.0.0.1');
      sidecar.registerInConsul(new ConsulRegistration({
        agent: parseHostPort(options.consulRegister.address, 'the Consul address'),
        ...(options.consulRegister.token ? { token: options.consulRegister.token } : {}),
        proxyId, service: options.service, namespace, appPort: options.appPort, labels: self.labels,
        inbound: parseHostPort(advertiseAddress, 'the advertise address'),
        readyUrl: `http://${adminHost.includes(':') ? `[${adminHost}]` : adminHost}:${sidecar.adminPort}/ready`,
        checkIntervalMs: options.consulRegister.checkIntervalMs ?? 10_000,
        logger: logger.child({ component: 'consul' }),
      }));
    }
    return sidecar.handle(self);
  } catch (err) {
    await sidecar.close();
    throw err;
  }
}

/** The parts of one sidecar and its lifecycle; startSidecar fills it in step by step. */
class Sidecar {
  readonly identity = new Watch<IdentityMaterial>();
  readonly config = new Watch<CompiledConfig>();
  readonly #listeners: { name: string; listener: ProxyListener }[] = [];
  readonly #ready: Promise<void>;
  #markReady!: () => void;
  #admin: AdminServer | undefined;
  #boot: Bootstrapped | undefined;
  #telemetry: Telemetry | undefined;
  #metrics: LifecycleMetrics | undefined;
  #control: ControlClient | undefined;
  #consul: ConsulRegistration | undefined;
  #listenersUp = false;
  #draining = false;
  #stopping: Promise<void> | undefined;
  #offConfig: (() => void) | undefined;

  constructor(
    readonly proxyId: string,
    readonly service: string,
    readonly namespace: string,
    readonly controlPlaneAddress: string,
    readonly drainTimeoutMs: number,
    readonly drainQuietMs: number,
    readonly announceMs: number,
    readonly logger: Logger,
  ) {
    this.#ready = new Promise((resolve) => (this.#markReady = resolve));
  }

  async startAdmin(host: string, port: number, remoteConfig: boolean): Promise<void> {
    this.#admin = await named('admin', host, port, AdminServer.start({
      host, port, logger: this.logger, remoteConfig,
      handlers: { readiness: () => this.readiness(), configView: () => this.#configView(), metrics: () => this.#renderMetrics() },
    }));
  }

  attach(self: SelfInfo, boot: Bootstrapped, otlpClient: OtlpClientSettings | undefined): Telemetry {
    this.#boot = boot;
    const log = this.logger.child({ component: 'telemetry' });
    // Whether TLS is on and which header names are sent; never the values.
    if (otlpClient) log.info('span export client settings from files', { otlp: describeOtlpClient(otlpClient) });
    this.#telemetry = new Telemetry(self, { log, otlpClient });
    this.#metrics = new LifecycleMetrics(this.#telemetry);
    const telemetry = this.#telemetry;
    this.#offConfig = this.config.subscribe((cfg) => telemetry.configure(cfg.mesh));
    return telemetry;
  }

  async addListener(kind: ListenerKind, host: string, port: number, start: (host: string, port: number) => Promise<ProxyListener>): Promise<ProxyListener> {
    const listener = await named(kind, host, port, start(host, port));
    this.#listeners.push({ name: kind === 'tcp-forward' ? `tcp-forward ${port}` : kind, listener });
    return listener;
  }

  /** Traffic summaries and taps for `weftctl stat`, `top`, `tap`, `edges`, over the discovery stream. */
  observer(self: SelfInfo): ObserveHandler {
    return new Observer(self.spiffeId, (this.#telemetry as Telemetry).events);
  }

  connect(control: ControlClient): void {
    this.#control = control;
    this.#listenersUp = true;
    control.start();
    void this.config.next().then(() => {
      if (this.#draining) return;
      void control.setReady(true);
      this.#markReady();
    });
  }

  readiness(): Readiness {
    return readinessOf(this.#parts());
  }

  get adminPort(): number {
    return this.#admin?.port ?? 0;
  }

  /** Registers once the sidecar is ready (Consul's first check then passes); drain deregisters. */
  registerInConsul(registration: ConsulRegistration): void {
    this.#consul = registration;
    void this.#ready.then(() => this.#draining || registration.start());
  }

  handle(self: SelfInfo): RunningSidecar {
    const [outbound, inbound] = this.#listeners.map((l) => l.listener.port);
    return {
      self,
      ports: Object.freeze({ outbound: outbound ?? 0, inbound: inbound ?? 0, admin: this.#admin?.port ?? 0 }),
      identity: this.identity,
      config: this.config,
      readiness: () => this.readiness(),
      whenReady: () => this.#ready,
      drain: () => this.#stop(this.drainTimeoutMs),
      close: () => this.close(),
    };
  }

  close(): Promise<void> {
    return this.#stop(0);
  }

  /** Withdraw, wait for callers to notice, drain the listeners, then stop everything else. */
  #stop(budgetMs: number): Promise<void> {
    this.#stopping ??= (async () => {
      const startedAt = Date.now();
      this.#draining = true;
      // Out of Consul first, so that nothing keeps sending here because the catalog still lists it.
      const deregistered = this.#consul?.stop();
      if (budgetMs > 0 && this.#control) {
        this.logger.info('draining', { drainTimeoutMs: budgetMs });
        void this.#control.setReady(false);
        await sleep(Math.min(this.announceMs, budgetMs));
      }
      await deregistered;
      const deadline = startedAt + budgetMs;
      const closeAll = (listeners: { name: string; listener: ProxyListener }[]): Promise<unknown> =>
        Promise.all(listeners.map(({ name, listener }) =>
          listener.close(Math.max(0, deadline - Date.now())).catch((err: unknown) => this.logger.warn('listener did not close cleanly', { listener: name, error: err instanceof Error ? err : String(err) }))));
      // Callers were told this instance is gone: inbound drains now. The app's own ports
      // (outbound, tcp-forward) keep serving while the app still calls out (app-quiet.ts).
      const appFacing = this.#listeners.filter((l) => l.name !== 'inbound');
      await Promise.all([
        closeAll(this.#listeners.filter((l) => l.name === 'inbound')),
        (async () => {
          if (budgetMs > 0) {
            const why = await untilQuiet(appFacing.map((l) => l.listener), this.drainQuietMs, deadline);
            this.logger.info(why === 'quiet' ? 'app quiet; closing its ports' : 'drain timeout; closing the app\'s ports', { afterMs: Date.now() - startedAt });
          }
          await closeAll(appFacing);
        })(),
      ]);
      await this.#telemetry?.shutdown();
      this.#control?.close();
      this.#boot?.identityClient.close();
      this.#offConfig?.();
      await this.#admin?.close();
      this.logger.info('stopped', { afterMs: Date.now() - startedAt });
    })();
    return this.#stopping;
  }

  #renderMetrics(): string {
    if (!this.#telemetry || !this.#metrics) return '';
    this.#metrics.update(factsOf(this.#parts()));
    return this.#telemetry.renderMetrics();
  }

  #configView(): unknown {
    return buildConfigView({ proxyId: this.proxyId, service: this.service, namespace: this.namespace, controlPlaneAddress: this.controlPlaneAddress, ...factsOf(this.#parts()) });
  }

  #parts(): StatusParts {
    return {
      draining: this.#draining,
      listenersUp: this.#listenersUp,
      identity: this.identity.current,
      config: this.config.current,
      identityState: this.#boot?.identityClient.state,
      control: this.#control?.state,
    };
  }
}

/** A listener's start, with a failure to listen (port taken, no such address) told as which listener and which flag. */
async function named<T>(kind: ListenerKind, host: string, port: number, starting: Promise<T>): Promise<T> {
  try {
    return await starting;
  } catch (err) {
    throw (err as NodeJS.ErrnoException).syscall === 'listen' ? new ListenError(kind, host, port, err) : err;
  }
}
