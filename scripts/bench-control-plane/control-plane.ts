/**
 * The one real control plane of the bench: the built weft-control-plane, started by the harness
 * with a file store in a temporary directory, reached through the admin API that weftctl uses, and
 * measured from /proc (RSS, CPU ticks) and its /metrics (V8 heap).
 */
import * as path from 'node:path';
import { connectAdmin, loadClientConfig, processIo, type AdminApi } from '@weft/cli';
import { httpGetText, Mesh, parsePrometheusText, sumSamples, type ControlPlane } from '@weft/harness';
import { ProcessSet } from '../bench/proc-stats';

export interface CpSample {
  readonly rssKb: number;
  readonly heapUsedBytes: number;
}

const API = 'weft.dev/v1alpha1';

export class BenchControlPlane {
  readonly #mesh: Mesh;
  readonly #env: Readonly<Record<string, string>>;
  #cp: ControlPlane | undefined;
  #admin: AdminApi | undefined;
  #dataDir = '';

  constructor(mesh: Mesh, env: Readonly<Record<string, string>> = {}) {
    this.#mesh = mesh;
    this.#env = env;
  }

  get #running(): ControlPlane {
    if (!this.#cp) throw new Error('the control plane is not running');
    return this.#cp;
  }

  get target(): string {
    return this.#running.endpoint;
  }

  get pid(): number {
    return this.#running.proc.pid;
  }

  /** A fresh control plane with its own data directory; later start() calls reuse both (a restart). */
  async start(): Promise<void> {
    this.#dataDir ||= await this.#mesh.tempDir('cp-bench');
    const port = this.#cp?.grpcPort;
    this.#cp = await this.#mesh.startControlPlane({
      dataDir: this.#dataDir,
      ...(port ? { grpcPort: port } : {}),
      readyTimeoutMs: 60_000,
      // Nothing listens at the simulated sidecars' addresses: publish them as announced.
      extraArgs: ['--endpoint-verification', 'off'],
      env: this.#env,
    });
    this.#admin?.close();
    this.#admin = connectAdmin(await loadClientConfig(this.#running.configPath, processIo()));
  }

  /** kill -9: no goodbye to the streams, as when a machine dies. */
  async kill(): Promise<void> {
    this.#admin?.close();
    this.#admin = undefined;
    await this.#mesh.group.stop(this.#running.proc, 'SIGKILL');
  }

  async stop(): Promise<void> {
    this.#admin?.close();
    this.#admin = undefined;
    if (this.#cp) await this.#mesh.group.stop(this.#cp.proc, 'SIGTERM', 10_000);
  }

  get #api(): AdminApi {
    if (!this.#admin) throw new Error('the control plane is not running');
    return this.#admin;
  }

  async rootFingerprint(): Promise<string> {
    return (await this.#api.caStatus()).signingRootFingerprint;
  }

  /** One join token per service, good for any number of sidecars of it for an hour. */
  async token(service: string): Promise<string> {
    return (await this.#api.createToken({ service, namespace: 'default', ttlSeconds: 3_600, maxUses: 0, unlimitedUses: true })).token;
  }

  /** Applies a Route (what `weftctl apply` sends); resolves with the store revision it produced. */
  async applyRoute(service: string, timeoutMs: number): Promise<number> {
    const route = { apiVersion: API, kind: 'Route', metadata: { name: service, namespace: 'default' }, spec: { service, rules: [{ timeout: `${timeoutMs}ms` }] } };
    const res = await this.#api.apply({ documents: [{ source: 'bench-control-plane', index: 1, json: JSON.stringify(route) }], dryRun: false });
    return Number(res.revision);
  }

  cpuTicks(): number {
    return new ProcessSet('control-plane', [this.pid]).cpuTicks();
  }

  async sample(): Promise<CpSample> {
    const metrics = await httpGetText(this.#running.httpPort, '/metrics');
    return { rssKb: new ProcessSet('control-plane', [this.pid]).rssKb(), heapUsedBytes: sumSamples(parsePrometheusText(metrics), 'nodejs_heap_size_used_bytes') };
  }

  /** Toggles the CPU profiler of profile-preload.ts (the first call starts it, the second writes the profile). */
  toggleProfiler(): void {
    process.kill(this.pid, 'SIGUSR2');
  }

  get dataDir(): string {
    return path.resolve(this.#dataDir);
  }
}
