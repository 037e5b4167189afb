import type { App, Mesh, Sidecar } from '@weft/harness';

export interface Instance {
  readonly service: string;
  readonly version: string;
  readonly app: App;
  readonly sidecar: Sidecar;
}

/**
 * The demo's services. `loadgen` is the demo itself playing a meshed app: it has a sidecar, and
 * the demo sends plain HTTP to that sidecar's outbound port with `Host: frontend`, exactly as a
 * meshed app would, so even the first hop is mutual TLS and shows up in traces and metrics.
 * (Its own app process is the sample service, which nobody calls.)
 */
const PLAN = [
  { name: 'loadgen', version: 'v1', call: [] as string[] },
  { name: 'frontend', version: 'v1', call: ['orders'] },
  // orders fails 10% of requests on purpose: the Route for orders retries them.
  { name: 'orders', version: 'v1', call: ['inventory'], failRate: 0.1 },
  { name: 'inventory', version: 'v1', call: [] },
  { name: 'inventory', version: 'v2', call: [] },
] as const;

export const TOPOLOGY_TEXT = [
  '  loadgen --> frontend --> orders --> inventory v1 (90%)',
  '                                  \\-> inventory v2 (10%)',
].join('\n');

/** Creates a join token per instance with `weftctl token create` and starts every app with its sidecar. */
export async function startTopology(mesh: Mesh): Promise<Instance[]> {
  return Promise.all(
    PLAN.map(async (p) => {
      const token = await mesh.createToken(p.name);
      const { app, sidecar } = await mesh.startMeshedApp({
        name: p.name,
        version: p.version,
        call: p.call,
        ...('failRate' in p ? { failRate: p.failRate } : {}),
        labels: { version: p.version },
        token,
        controlPlane: mesh.controlPlane.endpoint,
      });
      return { service: p.name, version: p.version, app, sidecar };
    }),
  );
}

export function instance(instances: readonly Instance[], service: string, version = 'v1'): Instance {
  const found = instances.find((i) => i.service === service && i.version === version);
  if (!found) throw new Error(`no ${service} ${version} instance`);
  return found;
}
