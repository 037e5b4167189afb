import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { findFreePorts } from './free-port';
import { portFrom, sampleServiceArgs, sidecarArgs, type AppOptions, type SidecarOptions } from './mesh-args';
import { programPath, repoRoot } from './paths';
import { ProcessGroup, type ManagedProcess } from './process-group';
import { runNode, type RunResult } from './run-node';

export type { AppOptions, SidecarOptions } from './mesh-args';

export interface ControlPlane {
  readonly proc: ManagedProcess;
  readonly dataDir: string;
  readonly grpcPort: number;
  readonly httpPort: number;
  /** `127.0.0.1:<grpcPort>`: what sidecars take as --control-plane. */
  readonly endpoint: string;
  /** `<dataDir>/weftctl.json`: what weftctl takes as --config. */
  readonly configPath: string;
}

export interface Sidecar {
  readonly proc: ManagedProcess;
  readonly service: string;
  readonly namespace: string;
  readonly appPort: number;
  readonly outboundPort: number;
  readonly inboundPort: number;
  readonly adminPort: number;
  readonly spiffeId: string;
}

export interface App {
  readonly proc: ManagedProcess;
  readonly name: string;
  readonly port: number;
}

/** Runs the real weftctl binary (from the repository root) and collects what it printed. */
export function weftctl(args: readonly string[], options: { config: string; input?: string }): Promise<RunResult> {
  return runNode(programPath('weftctl'), ['--config', options.config, ...args], {
    cwd: repoRoot(),
    ...(options.input === undefined ? {} : { input: options.input }),
  });
}

const PORT_CLASH = /EADDRINUSE|address already in use/;
const MESHED_APP_TRIES = 3;

/**
 * A control plane, sidecars and apps on loopback, all on ports the kernel picks. `close()` stops
 * every process and removes every temporary directory; call it in a `finally` or `after`.
 */
export class Mesh {
  readonly group = new ProcessGroup();
  readonly #tempDirs: string[] = [];
  readonly #logDir: string | undefined;
  #controlPlane: ControlPlane | undefined;
  #count = 0;
  #closed = false;
  #closing: Promise<void> | undefined;

  /** `logDir`: also write each process's output to `<logDir>/<name>.log`. */
  constructor(options: { logDir?: string } = {}) {
    this.#logDir = options.logDir;
  }

  get controlPlane(): ControlPlane {
    if (!this.#controlPlane) throw new Error('the mesh has no control plane yet: call startControlPlane() first');
    return this.#controlPlane;
  }

  async tempDir(prefix: string): Promise<string> {
    if (this.#closed) throw new Error('the mesh is closed');
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), `weft-${prefix}-`));
    if (this.#closed) {
      // close() ran while this directory was being made (a start still in flight): remove it.
      await fs.rm(dir, { recursive: true, force: true });
      throw new Error('the mesh is closed');
    }
    this.#tempDirs.push(dir);
    return dir;
  }

  #spawn(name: string, program: 'controlPlane' | 'sidecar' | 'sampleService', args: string[], env?: Readonly<Record<string, string>>, script = programPath(program)): ManagedProcess {
    if (this.#closed) throw new Error('the mesh is closed');
    this.#count += 1;
    const unique = `${name}-${this.#count}`;
    return this.group.spawn({
      name: unique,
      script,
      args,
      cwd: repoRoot(),
      ...(env ? { env } : {}),
      ...(this.#logDir ? { logFile: path.join(this.#logDir, `${unique}.log`) } : {}),
    });
  }

  /**
   * `grpcPort`: a fixed port, to restart a control plane where its sidecars expect it (they were
   * given its address once, as in production); by default the kernel picks one. `env` is added
   * to its environment (a profiler preload in NODE_OPTIONS, for example).
   */
  async startControlPlane(
    options: { dataDir?: string; endpointGrace?: string; grpcPort?: number; readyTimeoutMs?: number; extraArgs?: readonly string[]; env?: Readonly<Record<string, string>> } = {},
  ): Promise<ControlPlane> {
    const dataDir = options.dataDir ?? (await this.tempDir('data'));
    const args = ['--data-dir', dataDir, '--listen', `127.0.0.1:${options.grpcPort ?? 0}`, '--http', '127.0.0.1:0'];
    if (options.endpointGrace) args.push('--endpoint-grace', options.endpointGrace);
    args.push(...(options.extraArgs ?? []));
    const proc = this.#spawn('control-plane', 'controlPlane', args, options.env);
    const ready = await this.group.waitForLog(proc, (e) => e['msg'] === 'ready', options.readyTimeoutMs ?? 20_000);
    const grpcPort = portFrom(ready, 'grpcPort', proc.name);
    this.#controlPlane = {
      proc,
      dataDir,
      grpcPort,
      httpPort: portFrom(ready, 'httpPort', proc.name),
      endpoint: `127.0.0.1:${grpcPort}`,
      configPath: path.join(dataDir, 'weftctl.json'),
    };
    return this.#controlPlane;
  }

  /** weftctl against this mesh's control plane. */
  weftctl(args: readonly string[], options: { input?: string } = {}): Promise<RunResult> {
    return weftctl(args, { config: this.controlPlane.configPath, ...options });
  }

  /** A join token for one identity; throws with weftctl's stderr if it fails. */
  async createToken(service: string, namespace = 'default'): Promise<string> {
    const result = await this.weftctl(['token', 'create', '--service', service, '--namespace', namespace]);
    const token = result.stdout.trim();
    if (result.code !== 0 || !token) throw new Error(`weftctl token create --service ${service} failed (exit ${result.code}): ${result.stderr.trim()}`);
    return token;
  }

  async #spawnSidecar(options: SidecarOptions): Promise<ManagedProcess> {
    // A token file rather than --token: a token on the command line is visible to `ps`.
    const tokenFile = path.join(await this.tempDir('token'), 'token');
    await fs.writeFile(tokenFile, options.token, { mode: 0o600 });
    return this.#spawn(`sidecar-${options.service}`, 'sidecar', sidecarArgs(options, tokenFile), options.env, options.script);
  }

  async #sidecarReady(proc: ManagedProcess, options: SidecarOptions): Promise<Sidecar> {
    const ready = await this.group.waitForLog(proc, (e) => e['msg'] === 'ready', options.readyTimeoutMs ?? 20_000);
    return {
      proc,
      service: options.service,
      namespace: options.namespace ?? 'default',
      appPort: options.appPort,
      outboundPort: portFrom(ready, 'outboundPort', proc.name),
      inboundPort: portFrom(ready, 'inboundPort', proc.name),
      adminPort: portFrom(ready, 'adminPort', proc.name),
      spiffeId: typeof ready['spiffeId'] === 'string' ? ready['spiffeId'] : '',
    };
  }

  async startSidecar(options: SidecarOptions): Promise<Sidecar> {
    return this.#sidecarReady(await this.#spawnSidecar(options), options);
  }

  /** Starts a sidecar without waiting for it to be ready (one that cannot reach its control plane yet). */
  spawnSidecar(options: SidecarOptions): Promise<ManagedProcess> {
    return this.#spawnSidecar(options);
  }

  /** Runs a sidecar that is expected to exit (bad flags, a port taken) and collects what it printed. */
  async runSidecarToExit(options: SidecarOptions, timeoutMs = 30_000): Promise<RunResult> {
    const tokenFile = path.join(await this.tempDir('token'), 'token');
    await fs.writeFile(tokenFile, options.token, { mode: 0o600 });
    return runNode(options.script ?? programPath('sidecar'), sidecarArgs(options, tokenFile), { cwd: repoRoot(), timeoutMs });
  }

  #spawnApp(options: AppOptions): ManagedProcess {
    const env = options.outboundPort ? { WEFT_OUTBOUND_PORT: String(options.outboundPort) } : undefined;
    return this.#spawn(`app-${options.name}`, 'sampleService', sampleServiceArgs(options), env);
  }

  async #appReady(proc: ManagedProcess, name: string): Promise<App> {
    const listening = await this.group.waitForLog(proc, (e) => e['msg'] === 'listening', 10_000);
    return { proc, name, port: portFrom(listening, 'port', proc.name) };
  }

  /** Starts deploy/examples/apps/sample-service.js and waits for its `listening` line. */
  async startApp(options: AppOptions): Promise<App> {
    return this.#appReady(this.#spawnApp(options), options.name);
  }

  /**
   * An app and its sidecar. Each needs the other's port before it starts (the sidecar forwards
   * to the app port; the app sends to the sidecar's outbound port), so both ports are picked up
   * front and the two processes start together. If a picked port was taken after all, both are
   * stopped and started again on new ports.
   */
  async startMeshedApp(options: AppOptions & Omit<SidecarOptions, 'service' | 'appPort' | 'outboundPort'>): Promise<{ app: App; sidecar: Sidecar }> {
    for (let attempt = 1; ; attempt++) {
      const [appPort, outboundPort] = (await findFreePorts(2)) as [number, number];
      // A sidecar that failed on its port had already joined, spending its token (one use by
      // default): a retry joins with a new one.
      const token = attempt === 1 ? options.token : await this.createToken(options.name, options.namespace);
      const sidecarOptions: SidecarOptions = { ...options, token, service: options.name, appPort, outboundPort };
      const appProc = this.#spawnApp({ ...options, port: appPort, outboundPort });
      const sidecarProc = await this.#spawnSidecar(sidecarOptions);
      const [app, sidecar] = await Promise.allSettled([this.#appReady(appProc, options.name), this.#sidecarReady(sidecarProc, sidecarOptions)]);
      if (app.status === 'fulfilled' && sidecar.status === 'fulfilled') return { app: app.value, sidecar: sidecar.value };
      await Promise.all([this.group.stop(appProc, 'SIGTERM', 2_000), this.group.stop(sidecarProc, 'SIGTERM', 2_000)]);
      const failures = [app, sidecar].filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as Error);
      const clash = failures.find((e) => PORT_CLASH.test(e.message));
      if (!clash || attempt >= MESHED_APP_TRIES) throw clash ?? failures[0];
    }
  }

  /** Stops every process (SIGTERM, then SIGKILL after `graceMs`) and removes temporary directories. Idempotent: later calls wait for the first. */
  close(graceMs = 5_000): Promise<void> {
    this.#closed = true;
    this.#closing ??= (async () => {
      try {
        await this.group.stopAll(graceMs);
      } finally {
        await Promise.all(this.#tempDirs.splice(0).map((dir) => fs.rm(dir, { recursive: true, force: true })));
      }
    })();
    return this.#closing;
  }
}
