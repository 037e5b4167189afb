import { Agent, createServer, request, type IncomingHttpHeaders, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { API_VERSION, spiffeId, type Snapshot, type WireEndpoint } from '@weft/api';
import { CertificateAuthority, generateKeyPair } from '@weft/pki';
import { compileSnapshot, type CompiledConfig } from '../../src/config/compiled-config';
import type { IdentityMaterial } from '../../src/control/identity-material';
import type { AppProtocol } from '../../src/inbound/local-app';
import { startInbound } from '../../src/inbound/server';
import type { ProxyListener } from '../../src/listener';
import type { Http1Upstream } from '../../src/outbound/endpoint/upstream';
import { startOutbound } from '../../src/outbound/server';
import type { SelfInfo } from '../../src/self';
import { Telemetry, type TelemetryOptions } from '../../src/telemetry/telemetry';
import { Watch } from '../../src/watch';

export const TRUST_DOMAIN = 'weft.local';

/** Test-only: a workload certificate from `ca` for one identity, as the control client would hold it. */
export function issueIdentity(ca: CertificateAuthority, service: string, namespace = 'default', ttlMs = 3_600_000): IdentityMaterial {
  const keys = generateKeyPair();
  const id = spiffeId({ trustDomain: TRUST_DOMAIN, namespace, service });
  const issued = ca.issue({ publicKeyPem: keys.publicKeyPem, ttlMs, usage: 'workload', uris: [id] });
  return {
    spiffeId: id,
    certificateChainPem: issued.chainPem,
    privateKeyPem: keys.privateKeyPem,
    trustBundlePem: [ca.rootPem],
    expiresAtMs: issued.notAfter.getTime(),
    issuedAtMs: Date.now(),
  };
}

export function selfInfo(service: string, namespace = 'default', labels: Record<string, string> = {}): SelfInfo {
  return { proxyId: `${service}-${Math.random().toString(16).slice(2, 8)}`, service, namespace, trustDomain: TRUST_DOMAIN, spiffeId: spiffeId({ trustDomain: TRUST_DOMAIN, namespace, service }), labels };
}

/** A resource document as an operator would write it (metadata.namespace defaults to default). */
export function resource(kind: string, name: string, spec: object, namespace = 'default'): object {
  return { apiVersion: API_VERSION, kind, metadata: { name, namespace }, spec };
}

export interface Response {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  text(): string;
}

export interface Instance {
  readonly address: string;
  readonly self: SelfInfo;
  readonly telemetry: Telemetry;
  readonly config: Watch<CompiledConfig>;
  readonly inbound: ProxyListener;
  readonly identity: Watch<IdentityMaterial>;
  readonly app: Server;
}

export interface Caller {
  readonly self: SelfInfo;
  readonly outbound: ProxyListener;
  readonly identity: Watch<IdentityMaterial>;
  readonly config: Watch<CompiledConfig>;
  readonly telemetry: Telemetry;
  /** Sends a request through the caller's outbound listener. */
  send(path: string, options?: { method?: string; headers?: Record<string, string>; body?: Buffer | string; host?: string }): Promise<Response>;
}

/**
 * An in-process mesh for scenario tests: a CA, real apps on port 0 behind real inbound sidecars,
 * callers behind real outbound sidecars, and a registry + policy store that `push()` compiles
 * (with compileSnapshot) into every caller's config Watch. `close()` stops everything.
 */
export class TestMesh {
  readonly ca = CertificateAuthority.createRoot(TRUST_DOMAIN);
  readonly #services = new Map<string, { service: string; namespace: string; endpoints: WireEndpoint[]; spiffeId: string }>();
  #resources: object[] = [];
  #mesh: object = {};
  /** Every sidecar started here, to receive pushes. */
  readonly #sidecars: { readonly self: SelfInfo; readonly config: Watch<CompiledConfig>; readonly telemetry: Telemetry }[] = [];
  readonly #closers: (() => Promise<void>)[] = [];
  readonly #agent = new Agent({ keepAlive: true });
  #version = 0;

  /** Starts an app and an inbound sidecar for `service`, and registers the endpoint. */
  async addInstance(
    service: string,
    app: RequestListener,
    options: { namespace?: string; labels?: Record<string, string>; identity?: IdentityMaterial; telemetry?: TelemetryOptions; appProtocol?: AppProtocol } = {},
  ): Promise<Instance> {
    const appServer = await listen(createServer(app));
    this.#closers.push(() => closeServer(appServer));
    return { ...(await this.addSidecar(service, (appServer.address() as AddressInfo).port, options)), app: appServer };
  }

  /** Starts an inbound sidecar for an app that already listens on `appPort` (gRPC, raw TCP, ...), and registers the endpoint. */
  async addSidecar(
    service: string,
    appPort: number,
    options: { namespace?: string; labels?: Record<string, string>; identity?: IdentityMaterial; telemetry?: TelemetryOptions; appProtocol?: AppProtocol } = {},
  ): Promise<Omit<Instance, 'app'>> {
    const namespace = options.namespace ?? 'default';
    const identity = new Watch(options.identity ?? issueIdentity(this.ca, service, namespace));
    const self = selfInfo(service, namespace, options.labels);
    const telemetry = new Telemetry(self, { accessLog: discard(), ...options.telemetry });
    const compiled = this.compile(self);
    const config = new Watch<CompiledConfig>(compiled);
    telemetry.configure(compiled.mesh);
    const inbound = await startInbound({ host: '127.0.0.1', port: 0, appPort, self, identity, config, telemetry, ...(options.appProtocol ? { appProtocol: options.appProtocol } : {}) });
    this.#closers.push(async () => {
      await inbound.close(0);
      await telemetry.shutdown();
    });
    const address = `127.0.0.1:${inbound.port}`;
    this.registerEndpoint(service, address, { namespace, labels: options.labels ?? {} });
    this.#sidecars.push({ self, config, telemetry });
    return { address, self, telemetry, config, inbound, identity };
  }

  /** Registers an endpoint by hand (a fake peer, or one whose sidecar runs elsewhere). */
  registerEndpoint(service: string, address: string, options: { namespace?: string; labels?: Record<string, string>; ready?: boolean } = {}): void {
    const namespace = options.namespace ?? 'default';
    const key = `${service}.${namespace}`;
    let entry = this.#services.get(key);
    if (!entry) {
      entry = { service, namespace, endpoints: [], spiffeId: spiffeId({ trustDomain: TRUST_DOMAIN, namespace, service }) };
      this.#services.set(key, entry);
    }
    entry.endpoints.push({ address, labels: options.labels ?? {}, ready: options.ready ?? true, proxyId: `p-${address}` });
  }

  /** Removes every endpoint of a service from the registry (the service stays known). */
  clearEndpoints(service: string, namespace = 'default'): void {
    const entry = this.#services.get(`${service}.${namespace}`);
    if (entry) entry.endpoints = [];
  }

  setResources(resources: object[]): void {
    this.#resources = resources;
  }

  setMeshConfig(spec: object): void {
    this.#mesh = spec;
  }

  /** Starts an outbound sidecar for a calling app. */
  async addCaller(service: string, options: { namespace?: string; telemetry?: TelemetryOptions; http1Upstream?: Http1Upstream } = {}): Promise<Caller> {
    const self = selfInfo(service, options.namespace ?? 'default');
    const identity = new Watch(issueIdentity(this.ca, service, self.namespace));
    const config = new Watch<CompiledConfig>(this.compile(self));
    const telemetry = new Telemetry(self, { accessLog: discard(), ...options.telemetry });
    if (config.current) telemetry.configure(config.current.mesh);
    const outbound = await startOutbound({ host: '127.0.0.1', port: 0, self, identity, config, telemetry, ...(options.http1Upstream ? { http1Upstream: options.http1Upstream } : {}) });
    this.#closers.push(async () => {
      await outbound.close(0);
      await telemetry.shutdown();
    });
    const agent = this.#agent;
    const caller: Caller = {
      self,
      outbound,
      identity,
      config,
      telemetry,
      send: (path, o = {}) => send(agent, outbound.port, path, o),
    };
    this.#sidecars.push(caller);
    return caller;
  }

  /** Compiles the current registry and resources for `self`. */
  compile(self: SelfInfo): CompiledConfig {
    this.#version += 1;
    return compileSnapshot(this.snapshot(), `v${this.#version}`, self);
  }

  snapshot(): Snapshot {
    return {
      meshConfigJson: JSON.stringify(this.#mesh),
      resources: this.#resources.map((r) => {
        const m = (r as { kind: string; metadata: { name: string; namespace: string } });
        return { kind: m.kind, name: m.metadata.name, namespace: m.metadata.namespace, json: JSON.stringify(r) };
      }),
      services: [...this.#services.values()].map((s) => ({ ...s, endpoints: [...s.endpoints] })),
      trustBundlePem: [this.ca.rootPem],
      storeRevision: this.#version,
    };
  }

  /** Compiles and delivers a new config to every sidecar (and its telemetry), as the control client would. */
  push(): void {
    for (const c of this.#sidecars) {
      const compiled = this.compile(c.self);
      c.telemetry.configure(compiled.mesh);
      c.config.set(compiled);
    }
  }

  async close(): Promise<void> {
    this.#agent.destroy();
    const closers = this.#closers.splice(0).reverse();
    await Promise.allSettled(closers.map((c) => c()));
  }
}

export function listen(server: Server): Promise<Server> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

export function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

export function send(
  agent: Agent,
  port: number,
  path: string,
  o: { method?: string; headers?: Record<string, string>; body?: Buffer | string; host?: string } = {},
): Promise<Response> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...(o.host !== undefined ? { host: o.host } : {}), ...o.headers };
    const req = request({ host: '127.0.0.1', port, path, method: o.method ?? 'GET', headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text: () => body.toString('utf8') });
      });
    });
    req.on('error', reject);
    req.end(o.body);
  });
}

/** A sink for access logs nobody reads, so that test output stays clean. */
function discard(): Writable {
  return new Writable({ write: (_chunk, _enc, done) => done() });
}

/**
 * Counts the calls an app received per key (a path, or method and path): `count(key)` records one
 * and says how many there were, so an app can fail the first few; tests read and clear `calls`.
 */
export function callCounter(): { readonly calls: Map<string, number>; count(key: string): number } {
  const calls = new Map<string, number>();
  return {
    calls,
    count: (key) => {
      const n = (calls.get(key) ?? 0) + 1;
      calls.set(key, n);
      return n;
    },
  };
}

/** Resolves after `ms`. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
