import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger, type Logger } from '@weft/api';
import { buildConfigView } from './admin/config-view';
import { DnsServer } from './capture/dns-server';
import { originalDstReader } from './capture/original-dst';
import { LifecycleMetrics } from './admin/lifecycle-metrics';
import { factsOf, readinessOf, type StatusParts } from './admin/status';
import { AdminServer, type Readiness } from './admin/server';
import type { CompiledConfig } from './config/compiled-config';
import { formatHostPort } from './control/address';
import { bootstrapIdentity, type Bootstrapped } from './control/bootstrap';
import { ControlClient, type ObserveHandler } from './control/control-client';
import type { ControlPlaneAddresses } from './control/control-plane-addresses';
import { ConsulRegistration } from './control/consul-registration';
import type { IdentityMaterial } from './control/identity-material';
import { JoinToken } from './control/join-token';
import { proxyVersion } from './control/proxy-version';
import { resolveOptions } from './flags';
import { startInbound } from './inbound/server';
import { IdleMemoryRelease } from './memory/idle-release';
import { nativeMemory } from './memory/native-memory';
import { releaseMemory, trimMemory, type MemoryReleased, type MemoryTrimmed } from './memory/release-memory';
import { LISTENER_LIMITS, type ListenerLimits } from './listen/mux-listener';
import { ListenError, type ListenerKind } from './listen-error';
import { untilQuiet } from './app-quiet';
import type { ProxyListener } from './listener';
import { SIDECAR_DEFAULTS, type SidecarOptions } from './options';
import { startOutbound } from './outbound/server';
import { startTcpForward } from './outbound/tcp-forward';
import type { SelfInfo } from './self';
import { Observer } from './telemetry/observe/observer';
import { describeOtlpClient, type OtlpClientSettings } from './telemetry/otlp-client';
import { Telemetry } from './telemetry/telemetry';
import { Watch } from './watch';

export type { ConsulRegisterOptions, SidecarOptions, SidecarOverrides } from './options';

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

/**
 * How long a quiet spell lasts before malloc's free pages go back (memory/idle-release.ts): long
 * enough that steady traffic with gaps under it never pays the trim, short enough that what a
 * burst of large bodies left in the arena (6-7 MB after 16 KiB answers at full load) is not held
 * until the full release.
 */
const TRIM_AFTER_MS = 2_000;

/**
 * Wires a sidecar: admin port first (so probes get answers while we wait for the control plane),
 * then trust and identity, the two listeners, and the discovery stream. Ready once the first
 * config is in force and the listeners are up.
 */
export async function startSidecar(given: SidecarOptions): Promise<RunningSidecar> {
  const options = resolveOptions(given);
  const { namespace, advertise } = options;
  const token = JoinToken.parse(options.token);
  const proxyId = randomUUID();
  // Sidecars given the same replicas start on different ones (see ControlPlaneAddresses.spreadBy).
  const addresses = options.addresses.spreadBy(proxyId);
  const logger = (options.logger ?? createLogger('sidecar')).child({ proxyId });
  const o = options.overrides ?? {};
  const sidecar = new Sidecar(proxyId, options.service, namespace, addresses, options.drainTimeoutMs, options.drainQuietMs, o.announceMs ?? SIDECAR_DEFAULTS.announceMs, logger);
  await sidecar.startAdmin(options.bindAdmin, options.adminPort, options.adminRemoteConfig ?? false);
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
    const limits: ListenerLimits = { ...LISTENER_LIMITS, bodyIdleTimeoutMs: options.bodyIdleTimeoutMs };
    const common = { self, identity: sidecar.identity, config: sidecar.config, telemetry };
    const appFacing = SIDECAR_DEFAULTS.bindAppFacing;
    await sidecar.addListener('outbound', appFacing, options.outboundPort, (host, port) => (o.startOutbound ?? startOutbound)({
      ...common, host, port, limits,
      ...(options.http1Upstream ? { http1Upstream: options.http1Upstream } : {}),
    }));
    const inbound = await sidecar.addListener('inbound', options.bindInbound, options.inboundPort, (host, port) => (o.startInbound ?? startInbound)({
      ...common, host, port, limits, appPort: options.appPort, appHost: options.appHost,
      ...(options.appProtocol ? { appProtocol: options.appProtocol } : {}),
    }));
    for (const forward of options.tcpForwards ?? []) {
      await sidecar.addListener('tcp-forward', appFacing, forward.localPort, (host) => startTcpForward({ ...common, host, forward }));
    }
    if (options.dnsPort !== undefined) {
      await sidecar.addListener('dns', appFacing, options.dnsPort, (host, port) => DnsServer.start({ host, port, config: sidecar.config, log: logger.child({ component: 'dns' }) }));
    }
    const capture = originalDstReader();
    if (!capture.available) logger.info('transparent capture is unavailable; serving as an explicit proxy only', { reason: capture.reason });
    if (options.memoryReleaseIdleMs > 0) {
      const native = o.nativeMemory ?? nativeMemory();
      // Said once here, not at each release.
      if (!native.available) logger.info('the memory addon is unavailable: an idle sidecar collects its heap with an ordinary full collection and does not trim malloc', { reason: native.reason });
      sidecar.releaseMemoryWhenIdle(options.memoryReleaseIdleMs, () => releaseMemory(native), () => trimMemory(native), logger.child({ component: 'memory' }));
    }
    const announced = { host: advertise.host, port: advertise.port ?? inbound.port };
    sidecar.connect(new ControlClient({
      addresses, trustDomain: self.trustDomain, self, identity: sidecar.identity, config: sidecar.config, advertiseAddress: formatHostPort(announced), appPort: options.appPort,
      proxyVersion: proxyVersion(), logger: logger.child({ component: 'control-client' }),
      onSigningRoot: (root) => boot.identityClient.renewUnlessFrom(root),
      observer: sidecar.observer(self),
      ...(o.compile ? { compile: o.compile } : {}),
      ...(o.reconnectBackoff ? { backoff: o.reconnectBackoff } : {}),
    }));
    if (options.consulRegister && options.consulAgent) {
      const adminHost = !['0.0.0.0', '::'].includes(options.bindAdmin) ? options.bindAdmin : advertise.host;
      sidecar.registerInConsul(new ConsulRegistration({
        agent: options.consulAgent,
        ...(options.consulRegister.token ? { token: options.consulRegister.token } : {}),
        proxyId, service: options.service, namespace, appPort: options.appPort, labels: self.labels,
        inbound: announced,
        readyUrl: `http://${adminHost.includes(':') ? `[${adminHost}]` : adminHost}:${sidecar.adminPort}/ready`,
        checkIntervalMs: options.consulRegister.checkIntervalMs ?? SIDECAR_DEFAULTS.consulCheckIntervalMs,
        logger: logger.child({ component: 'consul' }),
      }));
    }
    return sidecar.handle(self);
  } catch (err) {
    await sidecar.close();
    throw err;
  }
}

/** A listener with the name its log lines use (`inbound`, `tcp-forward 5432`, ...). */
interface NamedListener {
  readonly name: string;
  readonly listener: ProxyListener;
}

/** The parts of one sidecar and its lifecycle; startSidecar fills it in step by step. */
class Sidecar {
  readonly identity = new Watch<IdentityMaterial>();
  readonly config = new Watch<CompiledConfig>();
  /** Other sidecars' way in; on SIGTERM it drains first. */
  #inbound: NamedListener | undefined;
  #outbound: NamedListener | undefined;
  /** The app's own ports (outbound, each --tcp-forward, DNS): open while the app still calls out. */
  readonly #appFacing: NamedListener[] = [];
  readonly #ready: Promise<void>;
  #markReady!: () => void;
  #admin: AdminServer | undefined;
  #boot: Bootstrapped | undefined;
  #telemetry: Telemetry | undefined;
  #metrics: LifecycleMetrics | undefined;
  #control: ControlClient | undefined;
  #consul: ConsulRegistration | undefined;
  #memory: IdleMemoryRelease | undefined;
  #listenersUp = false;
  #draining = false;
  #stopping: Promise<void> | undefined;
  #offConfig: (() => void) | undefined;

  constructor(
    readonly proxyId: string,
    readonly service: string,
    readonly namespace: string,
    readonly controlPlane: ControlPlaneAddresses,
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
    const entry = { name: kind === 'tcp-forward' ? `tcp-forward ${port}` : kind, listener };
    if (kind === 'inbound') this.#inbound = entry;
    else this.#appFacing.push(entry);
    if (kind === 'outbound') this.#outbound = entry;
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

  /** Gives memory back once the listeners have gone idle (memory/idle-release.ts); stopped by drain. */
  releaseMemoryWhenIdle(idleMs: number, release: () => MemoryReleased, trim: () => MemoryTrimmed | undefined, logger: Logger): void {
    const listeners = [...(this.#inbound ? [this.#inbound.listener] : []), ...this.#appFacing.map((l) => l.listener)];
    this.#memory = new IdleMemoryRelease({ listeners: () => listeners, idleMs, release, trim, trimAfterMs: TRIM_AFTER_MS, logger });
    this.#memory.start();
  }

  /** Registers once the sidecar is ready (Consul's first check then passes); drain deregisters. */
  registerInConsul(registration: ConsulRegistration): void {
    this.#consul = registration;
    void this.#ready.then(() => this.#draining || registration.start());
  }

  handle(self: SelfInfo): RunningSidecar {
    return {
      self,
      ports: Object.freeze({ outbound: this.#outbound?.listener.port ?? 0, inbound: this.#inbound?.listener.port ?? 0, admin: this.adminPort }),
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
      this.#memory?.stop();
      // Out of Consul first, so that nothing keeps sending here because the catalog still lists it.
      const deregistered = this.#consul?.stop();
      if (budgetMs > 0 && this.#control) {
        this.logger.info('draining', { drainTimeoutMs: budgetMs });
        void this.#control.setReady(false);
        await sleep(Math.min(this.announceMs, budgetMs));
      }
      await deregistered;
      const deadline = startedAt + budgetMs;
      const closeAll = (listeners: readonly NamedListener[]): Promise<unknown> =>
        Promise.all(listeners.map(({ name, listener }) =>
          listener.close(Math.max(0, deadline - Date.now())).catch((err: unknown) => this.logger.warn('listener did not close cleanly', { listener: name, error: err instanceof Error ? err : String(err) }))));
      // Callers were told this instance is gone: inbound drains now. The app's own ports
      // (outbound, tcp-forward) keep serving while the app still calls out (app-quiet.ts).
      const appFacing = this.#appFacing;
      await Promise.all([
        closeAll(this.#inbound ? [this.#inbound] : []),
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
    return buildConfigView({ proxyId: this.proxyId, service: this.service, namespace: this.namespace, controlPlaneAddress: this.controlPlane.toString(), controlPlaneCurrent: formatHostPort(this.controlPlane.current), ...factsOf(this.#parts()) });
  }

  #parts(): StatusParts {
    return {
      draining: this.#draining,
      listenersUp: this.#listenersUp,
      identity: this.identity.current,
      config: this.config.current,
      identityState: this.#boot?.identityClient.state,
      control: this.#control?.state,
      memory: this.#memory?.state(),
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
