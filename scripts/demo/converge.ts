import type { Mesh } from '@weft/harness';

interface ServiceView {
  readonly service: string;
  readonly endpoints: readonly { readonly ready: boolean }[];
}
interface ProxyView {
  readonly name: string;
  readonly status: string;
}

async function getJson<T>(mesh: Mesh, args: string[]): Promise<T> {
  const result = await mesh.weftctl([...args, '-o', 'json']);
  if (result.code !== 0) throw new Error(`weftctl ${args.join(' ')} failed (exit ${result.code}): ${result.stderr.trim()}`);
  return JSON.parse(result.stdout) as T;
}

/**
 * Waits until the registry has every expected ready endpoint and every proxy runs the newest
 * configuration, as weftctl reports them. Throws with the last state seen if that takes too long.
 */
export async function waitForConvergence(mesh: Mesh, expected: Readonly<Record<string, number>>, proxies: number, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < until) {
    const services = await getJson<ServiceView[]>(mesh, ['get', 'services']);
    const ready = Object.fromEntries(services.map((s) => [s.service, s.endpoints.filter((e) => e.ready).length]));
    const status = await getJson<ProxyView[]>(mesh, ['proxy-status']);
    const endpointsOk = Object.entries(expected).every(([service, n]) => ready[service] === n);
    const proxiesOk = status.length === proxies && status.every((p) => p.status === 'SYNCED');
    if (endpointsOk && proxiesOk) return;
    last = `ready endpoints ${JSON.stringify(ready)}; proxies ${status.map((p) => `${p.name}=${p.status}`).join(', ') || 'none'}`;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`the mesh did not converge within ${timeoutMs / 1000}s: ${last}`);
}
