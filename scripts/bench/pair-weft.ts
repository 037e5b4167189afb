/**
 * The Weft pair with the defaults a user gets: STRICT mTLS, metrics on, tracing on at the default
 * sampling (MeshConfig names only the OTLP endpoint) with a live OTLP/gRPC receiver. One calling
 * sidecar; behind it one sidecar in front of the HTTP upstream and one (--app-protocol h2c) in
 * front of the gRPC upstream, since a sidecar serves one app protocol.
 */
import { httpRequest, Mesh, startOtlpReceiver, startOtlpSink, type OtlpReceiver, type OtlpSink, type Sidecar } from '@weft/harness';
import { grpcEchoCall } from './grpc-echo';
import type { Configuration, Upstreams } from './configuration';
import { ProcessSet } from './proc-stats';

export const WEFT_HTTP_SERVICE = 'web';
export const WEFT_GRPC_SERVICE = 'echo';

export interface WeftPairOptions {
  /** Extra environment for the sidecars (the profiler's NODE_OPTIONS). */
  readonly sidecarEnv?: Readonly<Record<string, string>>;
  /** MeshConfig `tracing.samplingPercent`; the default (1%) when absent, as users get it. */
  readonly samplingPercent?: number;
  /** Another build's `packages/sidecar/bin/weft-sidecar.js` for the sidecars (the control plane stays this checkout's). */
  readonly sidecarScript?: string;
  /** Extra flags for every sidecar (`bench:diagnose --sidecar-arg`). */
  readonly sidecarArgs?: readonly string[];
  /**
   * Export to a collector that only counts what it gets (`startOtlpSink`) instead of the harness's
   * collecting receiver, which decodes and keeps every span in this process, on the cores the
   * sidecars are measured on: what a tracing figure at 100% sampling should use.
   */
  readonly countingCollector?: boolean;
  /**
   * A Route for the HTTP service with this `timeout` (e.g. `15s`), so that every request takes
   * the timeout layer's deadline path; without it the pair runs the defaults, which have none.
   */
  readonly routeTimeout?: string;
}

async function meshConfig(mesh: Mesh, receiver: { readonly endpoint: string }, samplingPercent: number | undefined): Promise<void> {
  const sampling = samplingPercent === undefined ? '' : `, samplingPercent: ${samplingPercent}`;
  const yaml = `apiVersion: weft.dev/v1alpha1\nkind: MeshConfig\nmetadata: {name: default}\nspec: {tracing: {otlpEndpoint: "${receiver.endpoint}"${sampling}}}\n`;
  const result = await mesh.weftctl(['apply', '-f', '-'], { input: yaml });
  if (result.code !== 0) throw new Error(`weftctl apply (MeshConfig) failed (exit ${result.code}): ${result.stderr.trim()}`);
}

async function routeWithTimeout(mesh: Mesh, timeout: string): Promise<void> {
  const yaml = `apiVersion: weft.dev/v1alpha1\nkind: Route\nmetadata: {name: ${WEFT_HTTP_SERVICE}}\nspec: {service: ${WEFT_HTTP_SERVICE}, rules: [{timeout: "${timeout}"}]}\n`;
  const result = await mesh.weftctl(['apply', '-f', '-'], { input: yaml });
  if (result.code !== 0) throw new Error(`weftctl apply (Route with timeout ${timeout}) failed (exit ${result.code}): ${result.stderr.trim()}`);
}

export async function startWeftPair(upstreams: Upstreams, options: WeftPairOptions = {}): Promise<Configuration & { readonly receiver: OtlpReceiver | undefined; readonly sink: OtlpSink | undefined; readonly mesh: Mesh; readonly sidecars: { readonly client: Sidecar; readonly http: Sidecar } }> {
  const mesh = new Mesh();
  const sink = options.countingCollector ? await startOtlpSink() : undefined;
  const receiver = sink ? undefined : await startOtlpReceiver();
  const collector = (sink ?? receiver) as OtlpSink | OtlpReceiver;
  try {
    const cp = await mesh.startControlPlane();
    await meshConfig(mesh, collector, options.samplingPercent);
    if (options.routeTimeout !== undefined) await routeWithTimeout(mesh, options.routeTimeout);
    const start = async (service: string, appPort: number, extraArgs: string[] = []): Promise<Sidecar> =>
      mesh.startSidecar({ service, appPort, token: await mesh.createToken(service), controlPlane: cp.endpoint, extraArgs: [...extraArgs, ...(options.sidecarArgs ?? [])], ...(options.sidecarEnv ? { env: options.sidecarEnv } : {}), ...(options.sidecarScript ? { script: options.sidecarScript } : {}) });
    const [caller, web, echo] = await Promise.all([
      start('bench-client', upstreams.httpPort),
      start(WEFT_HTTP_SERVICE, upstreams.httpPort),
      start(WEFT_GRPC_SERVICE, upstreams.grpcPort, ['--app-protocol', 'h2c']),
    ]);
    await untilRoutable(caller.outboundPort);
    const set = (s: Sidecar, role: string): ProcessSet => new ProcessSet(`weft ${role} sidecar (${s.service})`, [s.proc.pid]);
    const client = set(caller, 'client');
    const servers = { http: set(web, 'server'), grpc: set(echo, 'server') };
    const controlPlane = new ProcessSet('weft control plane', [cp.proc.pid]);
    return {
      name: 'weft',
      label: 'Weft pair',
      mesh,
      receiver,
      sink,
      sidecars: { client: caller, http: web },
      target: (protocol) => ({ port: caller.outboundPort, host: protocol === 'http' ? WEFT_HTTP_SERVICE : WEFT_GRPC_SERVICE }),
      proxies: (protocol) => ({ client, server: servers[protocol], others: [controlPlane] }),
      stop: async () => {
        await mesh.close();
        await collector.close();
      },
    };
  } catch (err) {
    await mesh.close();
    await collector.close();
    throw err;
  }
}

/**
 * Ready sidecars are not yet a routable pair: the server's endpoint reaches the caller with the
 * next push, a few hundred milliseconds later. The benchmark measures traffic, not convergence.
 */
async function untilRoutable(port: number, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const routable = async (): Promise<boolean> => {
    const res = await httpRequest({ port, path: '/', headers: { host: WEFT_HTTP_SERVICE } }).catch(() => undefined);
    if (res === undefined || res.headers['x-weft-error'] !== undefined) return false;
    return grpcEchoCall(port, WEFT_GRPC_SERVICE, Buffer.from('ping')).then(() => true, () => false);
  };
  while (!(await routable())) {
    if (Date.now() > deadline) throw new Error(`the Weft pair did not become routable within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
