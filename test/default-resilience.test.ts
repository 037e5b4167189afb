import { expect } from 'chai';
import * as http from 'node:http';
import * as net from 'node:net';
import { httpGetText, Mesh, parsePrometheusText, sumSamples, waitFor, type Sidecar } from '@weft/harness';
import { callVia, echoOf, getJson, Load, sleep, startEchoApp, startMeshedEchoApp, type EchoApp } from './fixtures';

/** The part of /config these tests read: the endpoints the caller balances over. */
interface EndpointsView {
  readonly inForce: { readonly services: { service: string; endpoints: { address: string }[] }[] } | null;
}

async function endpointsOf(caller: Sidecar, service: string): Promise<string[]> {
  const view = (await getJson<EndpointsView>(caller.adminPort, '/config')).body.inForce;
  return view?.services.find((s) => s.service === service)?.endpoints.map((e) => e.address) ?? [];
}

async function metric(sidecar: Sidecar, name: string, labels: Record<string, string>): Promise<number> {
  return sumSamples(parsePrometheusText(await httpGetText(sidecar.adminPort, '/metrics')), name, labels);
}

interface Instance {
  app: EchoApp;
  sidecar: Sidecar;
}

/**
 * The mesh's defaults, with no Route and no ServicePolicy: a lost instance must be invisible to
 * callers (default retry of attempts that reached no app, passive health) and leave their config
 * within seconds (the control plane probes a departed endpoint).
 */
describe('resilient by default: no Route, no ServicePolicy', function () {
  this.timeout(120_000);

  describe('with the control plane up', () => {
    const mesh = new Mesh();
    const apps: EchoApp[] = [];
    let client: Sidecar;
    let orders: Instance;
    const inventory: Instance[] = [];

    const instance = (service: string, name: string, ports: { app?: number; inbound?: number } = {}): Promise<Instance> =>
      startMeshedEchoApp(mesh, apps, { service, appName: name, ...(ports.app ? { appPort: ports.app } : {}), ...(ports.inbound ? { inboundPort: ports.inbound } : {}) });

    before(async () => {
      await mesh.startControlPlane(); // the default endpoint grace (30 s)
      const started = await Promise.all([instance('client', 'client'), instance('orders', 'orders'), instance('inventory', 'inventory-a'), instance('inventory', 'inventory-b')]);
      client = started[0].sidecar;
      orders = started[1];
      inventory.push(started[2], started[3]);
      await waitFor('client to know both inventory instances and reach orders', async () =>
        (await endpointsOf(client, 'inventory')).length === 2 && (await callVia(client, 'orders')).status === 200 ? true : undefined,
      20_000);
    });

    after(async () => {
      await mesh.close();
      await Promise.all(apps.map((a) => a.close()));
    });

    it('does not retry a POST its upstream app answered with 500', async () => {
      const before = orders.app.received.length;
      orders.app.failNext(1, 500);
      const res = await callVia(client, 'orders', { method: 'POST', body: '{"n":1}' });
      expect([res.status, res.headers['x-weft-attempts']]).to.deep.equal([500, undefined]);
      expect(orders.app.received.length - before, 'attempts the app saw').to.equal(1);
    });

    it("retries a POST on the other instance when the peer sidecar's app refuses connections, and uses the app again once it is back", async () => {
      const [a, b] = inventory as [Instance, Instance];
      const appPort = a.app.port;
      await a.app.close(); // its sidecar stays up and answers 502 x-weft-unprocessed
      const results = [];
      for (let i = 0; i < 20; i++) results.push(await callVia(client, 'inventory', { method: 'POST', body: `{"i":${i}}` }));
      expect(results.map((r) => r.status).filter((s) => s !== 200), 'failed POSTs').to.deep.equal([]);
      expect(results.every((r) => echoOf(r).app === 'inventory-b')).to.equal(true);
      expect(results.filter((r) => r.headers['x-weft-attempts'] === '2').length, 'POSTs retried').to.be.at.least(1);
      expect(await metric(client, 'weft_retries_total', { destination: 'inventory.default', reason: 'app-unreachable', policy: 'default' })).to.be.at.least(1);
      // Passive health took it out at the first refusal: far fewer than half of the POSTs tried it.
      expect(await metric(client, 'weft_endpoints_down_total', { destination: 'inventory.default', reason: 'WEFT_ERR_APP_UNAVAILABLE' })).to.be.at.least(1);
      expect(results.filter((r) => r.headers['x-weft-attempts'] === '2').length).to.be.below(5);

      const back = await startEchoApp('inventory-a', appPort);
      apps.push(back);
      a.app = back;
      await waitFor('the instance that came back to serve again', async () => {
        for (let i = 0; i < 6; i++) if (echoOf(await callVia(client, 'inventory')).app === 'inventory-a') return true;
        return undefined;
      }, 15_000);
      expect(b.app.received.length).to.be.greaterThan(0);
    });

    it('loses at most 1% of requests when an instance is SIGKILLed under load, and drops it from the caller within 10 s', async () => {
      const [a] = inventory as [Instance, Instance];
      await waitFor('both instances to serve', async () => {
        const seen = new Set<string>();
        for (let i = 0; i < 10; i++) seen.add(echoOf(await callVia(client, 'inventory')).app);
        return seen.size === 2 ? true : undefined;
      }, 15_000);
      const deadAddress = `127.0.0.1:${a.sidecar.inboundPort}`;
      expect(await endpointsOf(client, 'inventory')).to.include(deadAddress);
      const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
      const load = new Load(() => callVia(client, 'inventory', { agent }), 4);
      let removedAfterMs = -1;
      try {
        await sleep(1000);
        const killedAt = Date.now();
        await mesh.group.stop(a.sidecar.proc, 'SIGKILL', 0);
        await a.app.close();
        await waitFor('the dead endpoint to leave the caller config', async () => ((await endpointsOf(client, 'inventory')).includes(deadAddress) ? undefined : true), 10_000);
        removedAfterMs = Date.now() - killedAt;
        // The drill: about a thousand requests; only those in flight on the killed connections may fail.
        await waitFor('800 requests', () => (load.results.length >= 800 ? true : undefined), 60_000);
      } finally {
        await load.stop();
        agent.destroy();
      }
      const failures = load.failures();
      expect(failures.length, `${failures.length} of ${load.results.length} failed: ${failures.slice(0, 5).join(' | ')}`).to.be.at.most(load.results.length * 0.01);
      expect(removedAfterMs, 'ms from the kill to the dead endpoint leaving the caller config').to.be.within(0, 10_000);
    });

    it('uses an instance again that is restarted on the same address', async () => {
      const dead = inventory[0] as Instance;
      const inboundPort = dead.sidecar.inboundPort;
      const restarted = await instance('inventory', 'inventory-a2', { inbound: inboundPort });
      expect(restarted.sidecar.inboundPort).to.equal(inboundPort);
      await waitFor('the restarted instance to serve', async () => {
        for (let i = 0; i < 6; i++) if (echoOf(await callVia(client, 'inventory')).app === 'inventory-a2') return true;
        return undefined;
      }, 15_000);
      expect(await endpointsOf(client, 'inventory')).to.have.length(2);
    });
  });

  describe('with the control plane down (callers keep their last config)', () => {
    const mesh = new Mesh();
    const apps: EchoApp[] = [];
    const listeners: net.Server[] = [];
    let client: Sidecar;
    const inventory: Instance[] = [];

    before(async () => {
      const cp = await mesh.startControlPlane();
      const start = (service: string, name: string): Promise<Instance> => startMeshedEchoApp(mesh, apps, { service, appName: name });
      const started = await Promise.all([start('client', 'client'), start('inventory', 'inventory-c'), start('inventory', 'inventory-d')]);
      client = started[0].sidecar;
      inventory.push(started[1], started[2]);
      await waitFor('both inventory instances to serve the client', async () => {
        const seen = new Set<string>();
        for (let i = 0; i < 10; i++) seen.add(echoOf(await callVia(client, 'inventory')).app);
        return seen.size === 2 ? true : undefined;
      }, 20_000);
      // Nobody will withdraw what dies from here on.
      await mesh.group.stop(cp.proc, 'SIGKILL', 0);
    });

    after(async () => {
      await mesh.close();
      await Promise.all([...apps.map((a) => a.close()), ...listeners.map((l) => new Promise((r) => l.close(r)))]);
    });

    it('retries a POST whose connection was refused on the other instance', async () => {
      const [c] = inventory as [Instance, Instance];
      await mesh.group.stop(c.sidecar.proc, 'SIGKILL', 0);
      const results = [];
      for (let i = 0; i < 10; i++) results.push(await callVia(client, 'inventory', { method: 'POST', body: `{"i":${i}}` }));
      expect(results.filter((r) => r.status !== 200).map((r) => `${r.status} ${r.body}`), 'failed POSTs').to.deep.equal([]);
      expect(results.every((r) => echoOf(r).app === 'inventory-d')).to.equal(true);
      expect(await endpointsOf(client, 'inventory'), 'the dead endpoint is still in the config').to.have.length(2);
      expect(await metric(client, 'weft_retries_total', { destination: 'inventory.default', reason: 'connect-failure', policy: 'default' })).to.be.at.least(1);
      expect(await metric(client, 'weft_endpoints_down_total', { destination: 'inventory.default', reason: 'WEFT_ERR_CONNECT' })).to.be.at.least(1);
      expect(await metric(client, 'weft_endpoints_out', { destination: 'inventory.default' })).to.equal(1);
    });

    it('keeps attempts within the retry budget when every instance is dead (no retry storm)', async () => {
      const [c, d] = inventory as [Instance, Instance];
      await mesh.group.stop(d.sidecar.proc, 'SIGKILL', 0);
      // Count every connection made to the dead addresses: each one accepted and dropped at once.
      let attempts = 0;
      for (const dead of [c, d]) {
        const listener = net.createServer((socket) => {
          attempts += 1;
          socket.destroy();
        });
        await new Promise<void>((resolve, reject) => {
          listener.once('error', reject);
          listener.listen(dead.sidecar.inboundPort, '127.0.0.1', resolve);
        });
        listeners.push(listener);
      }
      const agent = new http.Agent({ keepAlive: true, maxSockets: 10 });
      const requests = 300;
      let sent = 0;
      const statuses = new Map<number, number>();
      const started = Date.now();
      await Promise.all(
        Array.from({ length: 10 }, async () => {
          while (sent < requests) {
            sent += 1;
            const res = await callVia(client, 'inventory', { agent, method: 'POST', body: '{}' });
            statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          }
        }),
      );
      agent.destroy();
      const seconds = (Date.now() - started) / 1000;
      expect([...statuses]).to.deep.equal([[503, requests]]);
      // Every request tried at least once (panic: no endpoint is healthy, so all are tried). Without
      // a budget, 3 x 300 = 900. The budget allows 20% of the requests plus 10 per second; probes of
      // passive health (at most one per endpoint per second) and the earlier test's requests add a few.
      expect(attempts, `${attempts} connections in ${seconds.toFixed(1)} s`).to.be.at.most(requests * 1.2 + 10 * (seconds + 1) + 2 * (seconds + 1) + 10);
      expect(await metric(client, 'weft_retries_skipped_total', { destination: 'inventory.default', reason: 'budget' })).to.be.greaterThan(100);
    });
  });
});
