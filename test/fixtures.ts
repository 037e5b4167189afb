/**
 * Helpers for the cross-process suites: every process is real (control plane, sidecars, weftctl)
 * and talks over real ports on 127.0.0.1. Apps are small HTTP servers inside the test process,
 * so a test can see exactly what reached the app and make it misbehave on cue.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { httpRequest, weftctl, type HttpResult, type Mesh, type Sidecar, type SidecarOptions } from '@weft/harness';

export const API = 'apiVersion: weft.dev/v1alpha1';

/** Applies YAML through the real weftctl binary; throws with its stderr on failure. */
export async function apply(mesh: Mesh, yaml: string): Promise<string> {
  const result = await mesh.weftctl(['apply', '-f', '-'], { input: yaml });
  if (result.code !== 0) throw new Error(`weftctl apply failed (exit ${result.code}): ${result.stderr}`);
  return result.stdout;
}

/** Everything a control plane keeps that weftctl can read, as weftctl (with `config`) prints it in JSON. */
export async function readEverything(config: string): Promise<Record<string, unknown>> {
  const read = async (args: readonly string[]): Promise<unknown> => {
    const out = await weftctl([...args, '-o', 'json'], { config });
    if (out.code !== 0) throw new Error(`weftctl ${args.join(' ')} failed (exit ${out.code}): ${out.stderr}`);
    return JSON.parse(out.stdout) as unknown;
  };
  const ca = (await read(['ca', 'status'])) as Record<string, unknown>;
  return {
    meshconfig: await read(['get', 'meshconfig']),
    routes: await read(['get', 'routes', '-A']),
    servicepolicies: await read(['get', 'servicepolicies', '-A']),
    authorizationpolicies: await read(['get', 'authorizationpolicies', '-A']),
    tokens: await read(['token', 'list']),
    ca: { phase: ca['phase'], roots: ca['roots'], signingRootFingerprint: ca['signingRootFingerprint'] },
  };
}

export interface ReceivedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly bodyBytes: number;
}

/** What an echo app answers: its name plus what it received, so a test sees the app's view. */
export interface EchoReply {
  readonly app: string;
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly bodyBytes: number;
}

export interface EchoApp {
  readonly name: string;
  readonly port: number;
  readonly received: ReceivedRequest[];
  /** Answer the next `n` requests with `status`. */
  failNext(n: number, status?: number): void;
  /** Hold every response this long before answering. */
  delayMs: number;
  close(): Promise<void>;
}

/** `port`: a fixed port, to bring an app back where its sidecar expects it; by default the kernel picks one. */
export async function startEchoApp(name: string, port = 0): Promise<EchoApp> {
  let failures = 0;
  let failStatus = 503;
  const received: ReceivedRequest[] = [];
  const app: EchoApp = {
    name,
    port: 0,
    received,
    delayMs: 0,
    failNext(n, status = 503) {
      failures = n;
      failStatus = status;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  const server = http.createServer((req, res) => {
    let bodyBytes = 0;
    req.on('data', (chunk: Buffer) => (bodyBytes += chunk.length));
    req.on('end', () => {
      received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, bodyBytes });
      const answer = (): void => {
        if (failures > 0) {
          failures -= 1;
          res.writeHead(failStatus, { 'content-type': 'text/plain' }).end(`${name} failing on purpose`);
          return;
        }
        const reply: EchoReply = { app: name, url: req.url ?? '', headers: req.headers, bodyBytes };
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(reply));
      };
      if (app.delayMs > 0) setTimeout(answer, app.delayMs);
      else answer();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  (app as { port: number }).port = (server.address() as AddressInfo).port;
  return app;
}

export interface MeshedEchoApp {
  readonly app: EchoApp;
  readonly sidecar: Sidecar;
}

/**
 * An echo app in this process and a real sidecar in front of it, joined as `service` with a fresh
 * join token unless `token` is given, to the mesh's control plane unless `controlPlane` is given.
 * The app goes onto `apps`, which the suite closes in its `after`. (`Mesh.startMeshedApp` spawns
 * the sample service instead, whose requests a test cannot see or make fail.)
 */
export async function startMeshedEchoApp(
  mesh: Mesh,
  apps: EchoApp[],
  options: Omit<SidecarOptions, 'appPort' | 'token' | 'controlPlane'> & { token?: string; controlPlane?: string; appName?: string; appPort?: number },
): Promise<MeshedEchoApp> {
  const { appName, appPort, ...sidecar } = options;
  const app = await startEchoApp(appName ?? options.service, appPort);
  apps.push(app);
  const token = options.token ?? (await mesh.createToken(options.service, options.namespace));
  return { app, sidecar: await mesh.startSidecar({ controlPlane: mesh.controlPlane.endpoint, ...sidecar, token, appPort: app.port }) };
}

/** A request from the local app to `service`, through `sidecar`'s outbound port. */
export function callVia(
  sidecar: Sidecar,
  service: string,
  options: { path?: string; method?: string; headers?: Record<string, string>; body?: string; timeoutMs?: number; agent?: http.Agent } = {},
): Promise<HttpResult> {
  return httpRequest({
    port: sidecar.outboundPort,
    path: options.path ?? '/',
    method: options.method ?? 'GET',
    headers: { host: service, ...(options.headers ?? {}) },
    ...(options.body === undefined ? {} : { body: options.body }),
    ...(options.agent ? { agent: options.agent } : {}),
    timeoutMs: options.timeoutMs ?? 10_000,
  });
}

export function echoOf(result: HttpResult): EchoReply {
  if (result.status !== 200) throw new Error(`expected 200, got ${result.status}: ${result.body.slice(0, 300)}`);
  return JSON.parse(result.body) as EchoReply;
}

export async function getJson<T>(port: number, path: string): Promise<{ status: number; body: T }> {
  const res = await httpRequest({ port, path });
  return { status: res.status, body: JSON.parse(res.body) as T };
}

/** The parts of a sidecar's /config the suites read. */
export interface SidecarConfigView {
  readonly identity: { spiffeId: string; certificateExpiresAt: string; certificateIssuedAt: string };
  readonly controlPlane: { address: string; current: string; connected: boolean };
  readonly config: { version: string };
  /** What is in force, as the sidecar describes it (routes, policies, endpoints). */
  readonly inForce: unknown;
}

export function sidecarConfig(sidecar: Sidecar): Promise<SidecarConfigView> {
  return getJson<SidecarConfigView>(sidecar.adminPort, '/config').then((r) => r.body);
}

/**
 * Keeps `concurrency` request loops going until stopped, and reports every result, so a test can
 * assert that nothing failed while something else (a config push, a restart) happened.
 */
export class Load {
  readonly results: HttpResult[] = [];
  readonly errors: Error[] = [];
  #running = true;
  readonly #loops: Promise<void>[] = [];

  constructor(request: () => Promise<HttpResult>, concurrency: number) {
    for (let i = 0; i < concurrency; i++) {
      this.#loops.push(
        (async () => {
          while (this.#running) {
            try {
              this.results.push(await request());
            } catch (err) {
              this.errors.push(err as Error);
            }
          }
        })(),
      );
    }
  }

  async stop(): Promise<void> {
    this.#running = false;
    await Promise.all(this.#loops);
  }

  failures(): string[] {
    return [
      ...this.errors.map((e) => `error: ${e.message}`),
      ...this.results.filter((r) => r.status !== 200).map((r) => `${r.status}: ${r.body.slice(0, 200)}`),
    ];
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
