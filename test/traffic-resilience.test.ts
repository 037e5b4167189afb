import { expect } from 'chai';
import * as http from 'node:http';
import { httpGetText, Mesh, parsePrometheusText, sumSamples, waitFor, type Sidecar } from '@weft/harness';
import { API, apply, callVia, echoOf, getJson, Load, sleep, startEchoApp, type EchoApp } from './fixtures';

/** The parts of /config's `inForce` these tests wait on. */
interface InForce {
  readonly inForce: {
    readonly localRateLimit?: { requestsPerSecond: number };
    readonly services: { service: string; traffic: Record<string, unknown>; rules: { retries?: Record<string, unknown>; headers?: unknown }[] }[];
  } | null;
}

const ORDERS_RETRIES = `${API}
kind: Route
metadata: {name: orders}
spec:
  service: orders
  rules:
  - match: [{headers: [{name: x-opt-in, present: true}]}]
    retries: {attempts: 2, retryOn: [5xx], retryNonIdempotent: true, backoff: {baseInterval: 1ms, maxInterval: 2ms}}
  - retries: {attempts: 3, retryOn: [5xx], backoff: {baseInterval: 1ms, maxInterval: 2ms}}
    headers:
      request: {set: {x-tenant: blue}, remove: [x-debug]}
      response: {set: {cache-control: no-store}, add: {x-served-by: weft}}
`;

describe('traffic resilience across processes: outliers, budgets, limits, live changes', function () {
  this.timeout(120_000);
  const mesh = new Mesh();
  const apps: EchoApp[] = [];
  let client: Sidecar;
  let orders: Sidecar;
  let ordersApp: EchoApp;
  const inventory: { app: EchoApp; sidecar: Sidecar }[] = [];

  const inForce = async (sidecar: Sidecar): Promise<NonNullable<InForce['inForce']>> => {
    const view = (await getJson<InForce>(sidecar.adminPort, '/config')).body.inForce;
    if (!view) throw new Error('no config in force yet');
    return view;
  };
  const metric = async (sidecar: Sidecar, name: string, labels: Record<string, string>): Promise<number> =>
    sumSamples(parsePrometheusText(await httpGetText(sidecar.adminPort, '/metrics')), name, labels);

  before(async () => {
    const cp = await mesh.startControlPlane();
    const start = async (service: string): Promise<{ app: EchoApp; sidecar: Sidecar }> => {
      const app = await startEchoApp(service);
      apps.push(app);
      const sidecar = await mesh.startSidecar({ service, appPort: app.port, token: await mesh.createToken(service), controlPlane: cp.endpoint });
      return { app, sidecar };
    };
    const started = await Promise.all([start('client'), start('orders'), start('inventory'), start('inventory'), start('inventory')]);
    client = started[0].sidecar;
    ({ app: ordersApp, sidecar: orders } = started[1]);
    inventory.push(...started.slice(2));
    await waitFor('three inventory endpoints and orders to be reachable', async () => {
      const view = await inForce(client);
      const inv = view.services.find((s) => s.service === 'inventory') as unknown as { endpoints: unknown[] } | undefined;
      return inv?.endpoints.length === 3 && (await callVia(client, 'orders')).status === 200 ? true : undefined;
    }, 20_000);
  });

  after(async () => {
    await mesh.close();
    await Promise.all(apps.map((a) => a.close()));
  });

  it('ejects the one inventory endpoint of three that starts failing, with no error for callers, and takes it back after it recovers', async () => {
    await apply(
      mesh,
      `${API}\nkind: ServicePolicy\nmetadata: {name: inventory}\nspec:\n  service: inventory\n  outlierDetection: {consecutiveErrors: 3, interval: 2s, baseEjectionTime: 2s, maxEjectionPercent: 50}\n---\n` +
        `${API}\nkind: Route\nmetadata: {name: inventory}\nspec:\n  service: inventory\n  rules:\n  - retries: {attempts: 2, retryOn: [5xx], backoff: {baseInterval: 1ms, maxInterval: 2ms}}\n`,
    );
    await waitFor('outlier detection to be in force', async () => ((await inForce(client)).services.find((s) => s.service === 'inventory')?.traffic['outlierDetection'] ? true : undefined));
    const bad = inventory[1] as { app: EchoApp };
    bad.app.failNext(1_000_000);
    const badBefore = bad.app.received.length;
    const results = [];
    for (let i = 0; i < 60; i++) results.push(await callVia(client, 'inventory'));
    expect(results.filter((r) => r.status !== 200).map((r) => `${r.status} ${r.body}`)).to.deep.equal([]);
    // Ejected after its third failure in a row. If the 60 calls outlast the 2 s ejection (a loaded
    // machine), it comes back and is ejected again after three more: never a request in between.
    const ejections = await metric(client, 'weft_ejections_total', { destination: 'inventory.default' });
    expect(ejections).to.be.at.least(1);
    expect(bad.app.received.length - badBefore, 'the failing endpoint saw only the failures that ejected it').to.equal(3 * ejections);

    bad.app.failNext(0);
    // Back once its ejection ran out (2 s for the first, doubling for each one after): it serves again, and nobody saw an error.
    const recovered = bad.app.received.length;
    const failures: string[] = [];
    await waitFor('the recovered endpoint to serve again', async () => {
      const res = await callVia(client, 'inventory');
      if (res.status !== 200) failures.push(`${res.status} ${res.body}`);
      return bad.app.received.length - recovered >= 5 ? true : undefined;
    }, 20_000, 20);
    expect(failures, 'answers other than 200 while the endpoint came back').to.deep.equal([]);
  });

  it('keeps upstream attempts within the retry budget while orders fails every request (retry storm)', async () => {
    await apply(mesh, `${ORDERS_RETRIES}---\n${API}\nkind: ServicePolicy\nmetadata: {name: orders}\nspec: {service: orders, retryBudget: {percent: 20, minRetriesPerSecond: 5}}\n`);
    await waitFor('the budget to be in force', async () => {
      const traffic = (await inForce(client)).services.find((s) => s.service === 'orders')?.traffic;
      return (traffic?.['retryBudget'] as { minRetriesPerSecond?: number } | undefined)?.minRetriesPerSecond === 5 ? true : undefined;
    });
    await sleep(1200); // let the budget's one-second reserve refill after the wait above
    ordersApp.failNext(1_000_000);
    const before = ordersApp.received.length;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 10 });
    const requests = 300;
    let sent = 0;
    const started = Date.now();
    await Promise.all(
      Array.from({ length: 10 }, async () => {
        while (sent < requests) {
          sent += 1;
          expect((await callVia(client, 'orders', { agent })).status).to.equal(503);
        }
      }),
    );
    agent.destroy();
    ordersApp.failNext(0);
    const seconds = (Date.now() - started) / 1000;
    const attempts = ordersApp.received.length - before;
    // Without a budget: 4 x 300 = 1200 attempts.
    expect(attempts, `${attempts} attempts in ${seconds.toFixed(1)} s`).to.be.at.most(requests * 1.2 + 5 * (seconds + 1) + 5);
    expect(await metric(client, 'weft_retries_skipped_total', { destination: 'orders.default', reason: 'budget' })).to.be.greaterThan(200);
  });

  it('does not retry a POST unless the route opts in, and changes headers as the route says', async () => {
    // The storm above spent the budget, which outlives config versions: give this test its own room.
    await apply(mesh, `${API}\nkind: ServicePolicy\nmetadata: {name: orders}\nspec: {service: orders, retryBudget: {percent: 100, minRetriesPerSecond: 100}}\n`);
    await waitFor('the larger budget to be in force', async () => {
      const traffic = (await inForce(client)).services.find((s) => s.service === 'orders')?.traffic;
      return (traffic?.['retryBudget'] as { percent?: number } | undefined)?.percent === 100 ? true : undefined;
    });
    const before = ordersApp.received.length;
    ordersApp.failNext(1);
    const post = await callVia(client, 'orders', { method: 'POST', body: '{"n":1}' });
    expect(post.status).to.equal(503);
    expect(ordersApp.received.length - before).to.equal(1);

    ordersApp.failNext(1);
    const optedIn = await callVia(client, 'orders', { method: 'POST', body: '{"n":1}', headers: { 'x-opt-in': '1' } });
    expect([optedIn.status, optedIn.headers['x-weft-attempts']]).to.deep.equal([200, '2']);

    const res = await callVia(client, 'orders', { headers: { 'x-tenant': 'red', 'x-debug': 'on' } });
    const echo = echoOf(res);
    expect([echo.headers['x-tenant'], echo.headers['x-debug']]).to.deep.equal(['blue', undefined]);
    expect([res.headers['cache-control'], res.headers['x-served-by']]).to.deep.equal(['no-store', 'weft']);
  });

  it("answers 429 with retry-after beyond the destination's burst", async () => {
    await apply(mesh, `${API}\nkind: ServicePolicy\nmetadata: {name: orders}\nspec: {service: orders, rateLimit: {requestsPerSecond: 0.5, burst: 2}}\n`);
    await waitFor("orders' sidecar to enforce the limit", async () => ((await inForce(orders)).localRateLimit ? true : undefined));
    await sleep(100);
    const statuses = [];
    let limited;
    for (let i = 0; i < 5; i++) {
      const res = await callVia(client, 'orders');
      statuses.push(res.status);
      if (res.status === 429) limited = res;
    }
    expect(statuses.filter((s) => s === 200).length).to.be.at.most(2);
    expect(limited?.headers['retry-after']).to.match(/^[1-2]$/);
    expect(limited?.headers['x-weft-error']).to.equal('WEFT_ERR_RATE_LIMITED');
    expect(await metric(orders, 'weft_rate_limited_total', { destination: 'orders.default' })).to.be.at.least(3);
  });

  it('answers at once with 503 WEFT_ERR_OVERFLOW when the connection pool is full', async () => {
    await apply(mesh, `${API}\nkind: ServicePolicy\nmetadata: {name: orders}\nspec: {service: orders, connectionPool: {maxConnections: 1, maxPendingRequests: 0}}\n`);
    await waitFor('the pool limit to be in force', async () => {
      const pool = (await inForce(client)).services.find((s) => s.service === 'orders')?.traffic['connectionPool'] as { maxConnections?: number } | undefined;
      return pool?.maxConnections === 1 && !(await inForce(orders)).localRateLimit ? true : undefined;
    });
    ordersApp.delayMs = 1000;
    try {
      const slow = callVia(client, 'orders');
      await sleep(200);
      const started = Date.now();
      const refused = await callVia(client, 'orders');
      // Queued behind the 1 s request it would take about 800 ms; refused, it is immediate.
      expect(Date.now() - started).to.be.below(500);
      expect(refused.status).to.equal(503);
      expect(refused.headers['x-weft-error']).to.equal('WEFT_ERR_OVERFLOW');
      expect(refused.body).to.contain('maxConnections (1)').and.contain('ServicePolicy "orders"');
      expect((await slow).status).to.equal(200);
    } finally {
      ordersApp.delayMs = 0;
    }
  });

  it('loses no request while balancers, limits and routes change under continuous load', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
    const load = new Load(() => callVia(client, 'inventory', { agent, headers: { 'x-user': `u${Math.floor(Math.random() * 100)}` } }), 16);
    const algorithms = ['least-request', 'ring-hash, hashHeader: x-user', 'random', 'round-robin', 'least-request'];
    try {
      for (const [i, algorithm] of algorithms.entries()) {
        const version = (await getJson<{ config: { version: string } }>(client.adminPort, '/config')).body.config.version;
        await apply(
          mesh,
          `${API}\nkind: ServicePolicy\nmetadata: {name: inventory}\nspec:\n  service: inventory\n  loadBalancer: {algorithm: ${algorithm}}\n  connectionPool: {maxConnections: ${100 + i}}\n  outlierDetection: {consecutiveErrors: 5}\n---\n` +
            `${API}\nkind: Route\nmetadata: {name: inventory}\nspec:\n  service: inventory\n  rules:\n  - timeout: ${5 + i}s\n    retries: {attempts: 1}\n`,
        );
        await waitFor('the client to run the new version', async () =>
          (await getJson<{ config: { version: string } }>(client.adminPort, '/config')).body.config.version !== version ? true : undefined,
        );
        await sleep(300);
      }
      await waitFor('thousands of requests', () => (load.results.length >= 2000 ? true : undefined), 30_000);
    } finally {
      await load.stop();
      agent.destroy();
    }
    expect(load.failures(), 'requests that failed during the changes').to.deep.equal([]);
    expect(load.results.length).to.be.at.least(2000);
  });
});
