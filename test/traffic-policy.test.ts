import { expect } from 'chai';
import * as http from 'node:http';
import { Mesh, waitFor, type Sidecar } from '@weft/harness';
import { API, apply, callVia, echoOf, Load, sidecarConfig, sleep, startEchoApp, type EchoApp } from './fixtures';

const SUBSETS = `${API}
kind: ServicePolicy
metadata: {name: inventory}
spec:
  service: inventory
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
`;

function splitRoute(v1: number, v2: number): string {
  return `${API}
kind: Route
metadata: {name: inventory}
spec:
  service: inventory
  rules:
  - backends: [{subset: v1, weight: ${v1}}, {subset: v2, weight: ${v2}}]
`;
}

describe('traffic policy pushed live: retries, splits, route changes under load', function () {
  this.timeout(90_000);
  const mesh = new Mesh();
  const apps: EchoApp[] = [];
  let client: Sidecar;
  let ordersApp: EchoApp;

  before(async () => {
    const cp = await mesh.startControlPlane();
    await apply(mesh, `${SUBSETS}---\n${splitRoute(90, 10)}`);
    const start = async (service: string, labels: Record<string, string> = {}): Promise<{ app: EchoApp; sidecar: Sidecar }> => {
      const app = await startEchoApp(`${service}${labels['version'] ? `-${labels['version']}` : ''}`);
      apps.push(app);
      const sidecar = await mesh.startSidecar({ service, labels, appPort: app.port, token: await mesh.createToken(service), controlPlane: cp.endpoint });
      return { app, sidecar };
    };
    const started = await Promise.all([start('client'), start('inventory', { version: 'v1' }), start('inventory', { version: 'v2' }), start('orders')]);
    client = started[0].sidecar;
    ordersApp = started[3].app;
    await waitFor('both inventory versions and orders to be reachable', async () => {
      const seen = new Set<string>();
      for (let i = 0; i < 40; i++) seen.add(echoOf(await callVia(client, 'inventory')).app);
      return seen.size === 2 && (await callVia(client, 'orders')).status === 200 ? true : undefined;
    }, 20_000);
  });

  after(async () => {
    await mesh.close();
    await Promise.all(apps.map((a) => a.close()));
  });

  it('turns an upstream that fails twice and then succeeds into a success, and says it retried', async () => {
    await apply(mesh, `${API}\nkind: Route\nmetadata: {name: orders}\nspec:\n  service: orders\n  rules:\n  - retries: {attempts: 3, retryOn: [5xx], backoff: {baseInterval: 10ms, maxInterval: 50ms}}\n`);
    await waitFor('the retry route to be in force', async () => {
      ordersApp.failNext(1);
      const res = await callVia(client, 'orders');
      return res.status === 200 && res.headers['x-weft-attempts'] === '2' ? true : undefined;
    });
    const before = ordersApp.received.length;
    ordersApp.failNext(2);
    const res = await callVia(client, 'orders', { path: '/checkout' });
    expect(res.status, res.body).to.equal(200);
    expect(res.headers['x-weft-attempts']).to.equal('3');
    expect(ordersApp.received.length - before, 'the app saw every attempt').to.equal(3);
  });

  it('does not retry when the route has no retry policy, so the failure reaches the caller', async () => {
    await apply(mesh, `${API}\nkind: Route\nmetadata: {name: orders}\nspec:\n  service: orders\n  rules:\n  - timeout: 5s\n`);
    await waitFor('the route without retries to be in force', async () => {
      ordersApp.failNext(1);
      const res = await callVia(client, 'orders');
      if (res.status === 200) ordersApp.failNext(0);
      return res.status === 503 ? true : undefined;
    });
  });

  it('splits traffic between subsets close to the configured 90/10', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
    const counts = new Map<string, number>();
    const total = 600;
    for (let batch = 0; batch < total / 20; batch++) {
      const replies = await Promise.all(Array.from({ length: 20 }, () => callVia(client, 'inventory', { agent })));
      for (const r of replies) counts.set(echoOf(r).app, (counts.get(echoOf(r).app) ?? 0) + 1);
    }
    agent.destroy();
    const v1 = (counts.get('inventory-v1') ?? 0) / total;
    // 600 draws at p=0.9: the standard deviation is about 1.2 points, so 5 points is > 4 sigma.
    expect(v1).to.be.within(0.85, 0.95);
    expect((counts.get('inventory-v1') ?? 0) + (counts.get('inventory-v2') ?? 0)).to.equal(total);
  });

  it('applies a route change to running sidecars without a restart, losing no request in flight', async () => {
    const versionBefore = (await sidecarConfig(client)).config.version;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
    const load = new Load(() => callVia(client, 'inventory', { agent }), 8);
    try {
      await sleep(500);
      await apply(mesh, splitRoute(0, 100));
      await waitFor('every answer to come from v2', async () => {
        const recent = load.results.slice(-30);
        return recent.length === 30 && recent.every((r) => r.status === 200 && echoOf(r).app === 'inventory-v2') ? true : undefined;
      });
      await sleep(300);
    } finally {
      await load.stop();
      agent.destroy();
    }
    expect(load.failures(), 'requests that failed during the change').to.deep.equal([]);
    expect(load.results.length).to.be.greaterThan(100);
    const after = await sidecarConfig(client);
    expect(after.config.version).to.not.equal(versionBefore);
    const status = JSON.parse((await mesh.weftctl(['proxy-status', '-o', 'json'])).stdout) as { name: string; status: string; ackedVersion: string; proxyId: string }[];
    expect(status.find((p) => p.name === 'client.default')?.ackedVersion).to.equal(after.config.version);
  });
});
