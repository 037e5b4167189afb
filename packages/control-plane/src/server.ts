import * as path from 'node:path';
import { createLogger, type RegistryStatus } from '@weft/api';
import { AdminService } from './admin/admin-service';
import { DATA_FILES, ensureDataDir } from './bootstrap/data-dir';
import { DataDirLock } from './bootstrap/data-dir-lock';
import { writeOperatorConfig } from './bootstrap/operator-credential';
import { ensureServingCertificate } from './bootstrap/serving-cert';
import { CaRotation } from './ca/ca-rotation';
import { followAuthority } from './ca/follow-authority';
import { rotationProgress } from './ca/rotation-progress';
import { JoinThrottle } from './audit/join-throttle';
import { Refusals } from './audit/refusals';
import { DiscoveryService } from './discovery/discovery-service';
import { ProxyTable } from './discovery/proxy-table';
import { PushQueue } from './discovery/push-queue';
import { SnapshotBuilder } from './discovery/snapshot';
import { ControlPlaneError } from './errors';
import { startGrpcServer, stopGrpcServer } from './grpc/grpc-server';
import { HealthServer } from './http/health-server';
import { IdentityService } from './identity/identity-service';
import { Metrics } from './metrics/metrics';
import { formatHostPort, parseHostPort, type HostPort } from '@weft/api';
import { bindHost } from './net/host-port';
import { DEFAULTS, type ControlPlaneOptions, type RunningControlPlane } from './options';
import { probeInbound } from './registry/endpoint-probe';
import { tlsAddressVerifier } from './registry/endpoint-verify';
import { verifierCredential } from './registry/verifier-credential';
import { Registry } from './registry/registry';
import { openRegistrySource } from './registry/registry-source';
import { servicesToWire } from './registry/registry-wire';
import { CertificateLedger } from './revocation/certificate-ledger';
import { Revocations } from './revocation/revocations';
import { openSharedState } from './store/store-backend';
import { MemoryCertificateProvider } from './tls/certificate-provider';

/**
 * Starts a control plane: CA, store, tokens and registry from the data directory, then the gRPC
 * server (Identity, Discovery, Admin) and the HTTP health server. Resolves once both listen; the
 * `ready` log line carries the bound ports.
 */
export async function startControlPlane(options: ControlPlaneOptions): Promise<RunningControlPlane> {
  const log = options.logger ?? createLogger('control-plane');
  const listen = address(options.listen ?? DEFAULTS.listen, 'listen');
  const httpAt = address(options.http ?? DEFAULTS.http, 'http');
  const dataDir = await ensureDataDir(options.dataDir);
  const cleanup: (() => Promise<void> | void)[] = [];
  const unwind = async (): Promise<void> => {
    for (const step of cleanup.reverse()) await Promise.resolve(step()).catch(() => undefined);
  };
  try {
    const lock = await DataDirLock.acquire(dataDir);
    cleanup.push(() => lock.release());
    // CA, resources and join tokens: in the data directory, or in etcd shared with other replicas.
    const shared = await openSharedState({
      dataDir,
      trustDomain: options.trustDomain ?? DEFAULTS.trustDomain,
      log,
      ...(options.ca ? { operatorCa: options.ca } : {}),
      ...(options.store ? { etcd: options.store } : {}),
    });
    cleanup.push(() => shared.close());
    const { mesh, rotation: rotationRecord, store, tokens } = shared;
    const graceMs = options.endpointGraceMs ?? DEFAULTS.endpointGraceMs;
    // A departed endpoint is probed and withdrawn at once if nothing listens at its address any more.
    // An announced address is published only once it served the announcing proxy's identity over TLS.
    const verify = options.verifyAddress === 'off' ? undefined : (options.verifyAddress ?? tlsAddressVerifier(verifierCredential(mesh)));
    const registryLog = log.child({ component: 'registry' });
    const registry = await Registry.open({
      file: path.join(dataDir, DATA_FILES.registry),
      graceMs,
      probe: probeInbound,
      ...(verify ? { verify } : {}),
      onVerification: (endpoint) => {
        metrics.verification(endpoint.verification);
        const fields = { proxyId: endpoint.proxyId, service: endpoint.service, namespace: endpoint.namespace, address: endpoint.address };
        if (endpoint.verification === 'verified') registryLog.debug('endpoint address verified', fields);
        else if (endpoint.verification === 'refused') registryLog.warn('endpoint address refused: it serves another identity', { ...fields, detail: endpoint.verificationDetail });
        else registryLog.info('endpoint address not verified yet: retrying', { ...fields, detail: endpoint.verificationDetail });
      },
    });
    cleanup.push(() => registry.close());
    // With --registry consul, endpoints are the registry's merged with Consul's catalog.
    const sources = await openRegistrySource(options.registry, registry, registryLog);
    cleanup.push(() => sources.close());
    const ledger = await CertificateLedger.open(path.join(dataDir, DATA_FILES.certificates), { legacyFile: path.join(dataDir, DATA_FILES.certificatesLegacy) });
    const revocations = await Revocations.open(path.join(dataDir, DATA_FILES.revocations));
    cleanup.push(() => Promise.all([ledger.close(), revocations.close()]).then(() => undefined));
    const sans = options.sans ?? [];
    const serving = await ensureServingCertificate(dataDir, mesh, sans, log);
    const provider = new MemoryCertificateProvider({ caPem: mesh.trustBundlePem.join(''), ...serving.credential });

    const proxies = new ProxyTable();
    const metrics = new Metrics({
      connectedProxies: () => proxies.connectedCount,
      storeRevision: () => store.revision,
      endpoints: () => registry.endpoints().length,
      registry: () => sources.status(),
      storeAvailable: () => (shared.health?.available === false ? 0 : 1),
    });
    // Every refused call is counted and logged (rate limited); wrong join token secrets are throttled.
    const refusals = new Refusals(log.child({ component: 'audit' }), metrics);
    cleanup.push(() => refusals.close());
    const replicas = shared.replicas;
    const snapshots = new SnapshotBuilder({ store, registry: sources, trustDomain: mesh.trustDomain, trust: mesh, ...(replicas ? { remoteEndpoints: replicas } : {}) });
    const discovery = new DiscoveryService({
      registry, proxies, snapshots, metrics, revocations, ledger, refusals, log: log.child({ service: 'discovery' }),
      ...(options.pushAnswerWaitMs !== undefined ? { answerWaitMs: options.pushAnswerWaitMs } : {}),
    });
    const pushes = new PushQueue(options.pushDebounceMs ?? DEFAULTS.pushDebounceMs, () => discovery.pushAll());
    const changed = (): void => {
      // Invalidate now, so that a stream opening before the push already sees the change.
      snapshots.invalidate();
      pushes.schedule();
    };
    // Endpoints (this replica's, Consul's, other replicas'): streams opening before the push get
    // the previous endpoints, and the push brings them the new ones (SnapshotBuilder.invalidate).
    const endpointsChanged = (): void => {
      snapshots.invalidate('endpoints');
      pushes.schedule();
    };
    const unsubscribe = [store.subscribe(changed), sources.subscribe(endpointsChanged)];
    if (replicas) {
      // What this replica publishes goes to the others; what they publish reaches our proxies.
      const share = (): void => replicas.publish(servicesToWire(registry, mesh.trustDomain, { published: true }));
      unsubscribe.push(registry.subscribe(share), replicas.subscribe(endpointsChanged));
      share();
    }
    cleanup.push(() => pushes.close());

    let endpoint = '';
    const rotation = new CaRotation({
      persist: shared.persistRotation,
      ...(shared.mayAdvanceRotation ? { mayAdvance: shared.mayAdvanceRotation } : {}),
      ...(replicas
        ? {
            peersWaitingFor: (r) => replicas.peersWaitingFor(r.phase, r.phaseSinceMs),
            reportStanding: (r, waitingFor) => replicas.reportRotation({ phase: r.phase, phaseSinceMs: r.phaseSinceMs, waitingFor }),
          }
        : {}),
      mesh,
      record: rotationRecord,
      log: log.child({ component: 'ca-rotation' }),
      progress: (target) => rotationProgress(target, proxies.records(), { now: Date.now(), graceMs, isRemoved: (id) => revocations.isProxyRemoved(id) }),
      publish: () => followAuthority({ dataDir, mesh, sans, provider, endpoint, log, snapshotsChanged: changed }),
      // After a restart, proxies that were connected must have had the chance to come back.
      holdUntilMs: Date.now() + graceMs,
    });
    cleanup.push(() => rotation.close());
    await shared.followRotation?.(rotation);
    const identity = new IdentityService({ mesh, store, tokens, metrics, revocations, ledger, refusals, throttle: new JoinThrottle(), log: log.child({ service: 'identity' }) });
    // Set once the HTTP server listens (it starts after the gRPC server, which serves the admin API).
    let health: HealthServer | undefined;
    let ready = false;
    const admin = new AdminService({
      trustDomain: mesh.trustDomain, store, registry, services: sources, proxies, tokens, mesh, rotation, ledger, revocations, discovery, refusals, snapshots,
      health: () => ({ httpAddress: health ? formatHostPort({ host: httpAt.host, port: health.port }) : '', ready, ...registryStatus(sources.status()) }),
      log: log.child({ service: 'admin' }),
    });
    const grpcServer = await startGrpcServer(bindHost(listen.host), listen.port, provider, {
      identity: identity.implementation,
      discovery: discovery.implementation,
      admin: admin.implementation,
    });
    cleanup.push(() => grpcServer.server.forceShutdown());
    endpoint = options.advertise ?? formatHostPort({ host: '127.0.0.1', port: grpcServer.port });
    await writeOperatorConfig(dataDir, mesh, endpoint, log);
    rotation.resume();

    const httpServer = await HealthServer.listen(bindHost(httpAt.host), httpAt.port, { ready: () => ready, details: () => [...readyDetails(sources.status()), ...(shared.health?.detail() ? [shared.health.detail()] : [])], metrics: () => metrics.render() });
    health = httpServer;
    cleanup.push(() => httpServer.close());

    const renewal = setInterval(() => {
      ensureServingCertificate(dataDir, mesh, sans, log).then(
        ({ credential, reissued }) => reissued && provider.update({ caPem: mesh.trustBundlePem.join(''), ...credential }),
        (err: unknown) => log.error('serving certificate renewal failed', { error: err instanceof Error ? err : String(err) }),
      );
    }, DEFAULTS.servingCertCheckMs);
    renewal.unref();

    ready = true;
    log.info('ready', { grpcPort: grpcServer.port, httpPort: httpServer.port, dataDir, trustDomain: mesh.trustDomain, rootFingerprint: mesh.rootFingerprint });

    let closing: Promise<void> | undefined;
    const close = (): Promise<void> =>
      (closing ??= (async () => {
        ready = false;
        clearInterval(renewal);
        await rotation.close();
        for (const off of unsubscribe) off();
        pushes.close();
        // The registry is written before streams end, so their ends are not recorded as departures.
        await sources.close();
        await registry.close();
        discovery.close();
        await stopGrpcServer(grpcServer.server, DEFAULTS.shutdownGraceMs);
        // Last, so that the summaries of suppressed refusals are written before the process ends.
        refusals.close();
        await httpServer.close();
        await Promise.all([shared.close(), ledger.close(), revocations.close()]);
        await lock.release();
        log.info('stopped', { dataDir });
      })());

    return Object.freeze({
      grpcPort: grpcServer.port,
      httpPort: httpServer.port,
      dataDir,
      trustDomain: mesh.trustDomain,
      get rootFingerprint() {
        return mesh.rootFingerprint;
      },
      operatorConfigPath: path.join(dataDir, DATA_FILES.operatorConfig),
      close,
    });
  } catch (err) {
    await unwind();
    throw err;
  }
}

function registryStatus(status: RegistryStatus | undefined): { registry?: RegistryStatus } {
  return status ? { registry: status } : {};
}

/** Lines under `ready` on /ready: an external registry's state. A Consul outage does not make the control plane unready. */
function readyDetails(status: RegistryStatus | undefined): string[] {
  if (!status) return [];
  if (status.up) return [`registry ${status.source} ${status.address}: up`];
  const since = status.lastSuccessMs > 0 ? `last good read ${new Date(status.lastSuccessMs).toISOString()}` : 'no good read yet';
  return [`registry ${status.source} ${status.address}: down (${since}; serving the last known instances): ${status.lastError}`];
}

function address(text: string, flag: string): HostPort {
  const parsed = parseHostPort(text, { allowAnyHost: true, allowPortZero: true });
  if (!parsed) throw new ControlPlaneError('WEFT_ERR_BAD_FLAG', `--${flag} ${JSON.stringify(text)} is not HOST:PORT (for example 0.0.0.0:15012, :15012 or 127.0.0.1:0)`);
  return parsed;
}
