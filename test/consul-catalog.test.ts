/**
 * --registry consul on a real mesh: a control plane following a Consul HTTP API test server
 * (@weft/harness, in this process on loopback: not Consul, see docs/consul.md), sidecars that
 * register themselves there (--consul-register) and a caller. Instances registered by sidecars are
 * routable; a failing Consul check takes one out; a Consul outage keeps the last known endpoints
 * (traffic continues) and shows in /ready, /metrics and weftctl check; Consul back, it resumes;
 * SIGTERM deregisters.
 */
import { expect } from 'chai';
import { ConsulTestServer, httpRequest, Mesh, parsePrometheusText, sumSamples, waitFor, type Sidecar } from '@weft/harness';
import { callVia, echoOf, Load, startEchoApp, type EchoApp } from './fixtures';

describe('Consul as the service catalog (--registry consul)', function () {
  this.timeout(120_000);
  const mesh = new Mesh();
  const apps: EchoApp[] = [];
  let consul: ConsulTestServer;
  let caller: Sidecar;
  let httpPort = 0;
  const inventory: { app: EchoApp; sidecar: Sidecar; consulId: string }[] = [];

  /** Which inventory apps answer `n` calls from the caller. */
  const reached = async (n = 12): Promise<Set<string>> => {
    const names = new Set<string>();
    for (let i = 0; i < n; i++) names.add(echoOf(await callVia(caller, 'inventory')).app);
    return names;
  };
  const waitForReached = (what: string, expected: readonly string[]): Promise<true> =>
    waitFor(what, async () => {
      const got = [...(await reached())].sort();
      return JSON.stringify(got) === JSON.stringify([...expected].sort()) ? true : undefined;
    }, 40_000);
  const ready = (): Promise<{ status: number; body: string }> => httpRequest({ port: httpPort, path: '/ready', method: 'GET' });
  const metric = async (name: string, labels: Record<string, string> = {}): Promise<number> =>
    sumSamples(parsePrometheusText((await httpRequest({ port: httpPort, path: '/metrics', method: 'GET' })).body), name, labels);

  before(async () => {
    consul = await ConsulTestServer.start();
    const cp = await mesh.startControlPlane({ extraArgs: ['--registry', 'consul', '--consul-addr', consul.address] });
    httpPort = cp.httpPort;
    for (const name of ['inventory-a', 'inventory-b']) {
      const app = await startEchoApp(name);
      apps.push(app);
      const sidecar = await mesh.startSidecar({
        service: 'inventory', appPort: app.port, token: await mesh.createToken('inventory'), controlPlane: cp.endpoint,
        extraArgs: ['--consul-register', consul.address, '--consul-check-interval', '1s'],
      });
      const entry = await waitFor(`${name} registered in Consul`, () => consul.instances('inventory').find((i) => i.meta['weft-app-port'] === String(app.port) && i.status === 'passing'), 20_000);
      inventory.push({ app, sidecar, consulId: entry.id });
    }
    const callerApp = await startEchoApp('web');
    apps.push(callerApp);
    caller = await mesh.startSidecar({ service: 'web', appPort: callerApp.port, token: await mesh.createToken('web'), controlPlane: cp.endpoint });
  });

  after(async () => {
    await mesh.close();
    await Promise.all(apps.map((a) => a.close()));
    await consul?.close();
  });

  it('instances that sidecars registered in Consul (with Weft meta) are routable, and the registry shows up', async () => {
    const [a] = inventory;
    expect(a?.consulId).to.match(/^weft-default-inventory-[0-9a-f-]{36}$/);
    const meta = consul.instances('inventory').find((i) => i.id === a?.consulId)?.meta ?? {};
    expect(meta['weft-inbound']).to.equal(`127.0.0.1:${a?.sidecar.inboundPort}`);
    expect(meta['weft-namespace']).to.equal('default');
    await waitForReached('both instances to answer', ['inventory-a', 'inventory-b']);
    const r = await ready();
    expect(r.status).to.equal(200);
    expect(r.body).to.match(new RegExp(`^ready\\nregistry consul ${consul.address.replace(/\./g, '\\.')}: up\\n$`));
    expect(await metric('weft_cp_registry_up', { source: 'consul' })).to.equal(1);
    expect(await metric('weft_cp_registry_instances', { source: 'consul', mesh: 'true' })).to.equal(2);
    const check = await mesh.weftctl(['check']);
    expect(check.stdout).to.contain(`✓ registry consul at ${consul.address} answers (2 mesh instances, 0 outside the mesh)`);
  });

  it('a Consul check turning critical takes that instance out for callers, passing brings it back', async () => {
    const [a] = inventory;
    // The sidecar itself stays ready: only Consul says the instance is unhealthy.
    consul.overrideCheck(a?.consulId ?? '', 'critical');
    await waitForReached('only inventory-b to answer', ['inventory-b']);
    expect([...(await reached(20))]).to.deep.equal(['inventory-b']);
    consul.overrideCheck(a?.consulId ?? '', undefined);
    await waitForReached('inventory-a to answer again', ['inventory-a', 'inventory-b']);
  });

  it('Consul down: the last known endpoints stay and traffic continues; /ready, metrics and weftctl check show it; Consul back: it resumes', async () => {
    const errorsBefore = await metric('weft_cp_registry_sync_errors_total', { source: 'consul' });
    const load = new Load(() => callVia(caller, 'inventory'), 2);
    try {
      await consul.stop();
      const down = await waitFor('the registry to be down on /ready', async () => {
        const r = await ready();
        return /registry consul .*: down/.test(r.body) ? r : undefined;
      }, 20_000);
      // Still ready: traffic does not depend on Consul.
      expect(down.status).to.equal(200);
      expect(down.body).to.match(/^ready\nregistry consul 127\.0\.0\.1:\d+: down \(last good read \d{4}-.*; serving the last known instances\): cannot reach Consul/);
      expect(await metric('weft_cp_registry_up', { source: 'consul' })).to.equal(0);
      expect(await metric('weft_cp_registry_sync_errors_total', { source: 'consul' })).to.be.above(errorsBefore);
      expect(await metric('weft_cp_registry_last_success_timestamp_seconds', { source: 'consul' })).to.be.above(0);
      const check = await mesh.weftctl(['check']);
      expect(check.code).to.equal(1);
      expect(check.stdout).to.match(/✗ registry consul at 127\.0\.0\.1:\d+ is down \(last good read .* ago; \d+ failed reads?\): cannot reach Consul/);
      expect(check.stdout).to.contain('hint: the control plane keeps serving the instances it last read');
      // Both instances keep receiving traffic through the outage.
      const served = new Set<string>();
      for (let i = 0; i < 12; i++) served.add(echoOf(await callVia(caller, 'inventory')).app);
      expect([...served].sort()).to.deep.equal(['inventory-a', 'inventory-b']);

      await consul.restart();
      await waitFor('the registry to be up again', async () => ((await ready()).body.includes(': up') ? true : undefined), 40_000);
    } finally {
      await load.stop();
    }
    expect(load.failures()).to.deep.equal([]);
    expect(load.results.length).to.be.above(0);
    // Following Consul again: a check turning critical takes effect.
    const [, b] = inventory;
    consul.overrideCheck(b?.consulId ?? '', 'critical');
    await waitForReached('only inventory-a to answer', ['inventory-a']);
    consul.overrideCheck(b?.consulId ?? '', undefined);
    await waitForReached('both to answer again', ['inventory-a', 'inventory-b']);
  });

  it('a sidecar deregisters its instance on SIGTERM, before it exits', async () => {
    const [, b] = inventory;
    expect(consul.serviceIds()).to.include(b?.consulId);
    await mesh.group.stop(b?.sidecar.proc ?? caller.proc, 'SIGTERM', 15_000);
    expect(consul.serviceIds()).not.to.include(b?.consulId);
    expect(consul.requests.some((r) => r.method === 'PUT' && r.path === `/v1/agent/service/deregister/${b?.consulId}`)).to.equal(true);
    await waitForReached('only inventory-a to answer', ['inventory-a']);
  });
});
