import { expect } from 'chai';
import * as http from 'node:http';
import { Mesh, waitFor, type Sidecar } from '@weft/harness';
import { API, apply, callVia, echoOf, Load, sidecarConfig, sleep, startMeshedEchoApp, type EchoApp } from './fixtures';

interface ProxyRow {
  readonly name: string;
  readonly status: string;
  readonly connected: boolean;
  readonly ackedVersion: string;
}

async function proxies(mesh: Mesh): Promise<ProxyRow[]> {
  const out = await mesh.weftctl(['proxy-status', '-o', 'json']);
  if (out.code !== 0) throw new Error(out.stderr);
  return JSON.parse(out.stdout) as ProxyRow[];
}

describe('a control plane outage never stops configured traffic', function () {
  this.timeout(90_000);
  const mesh = new Mesh();
  const apps: EchoApp[] = [];
  let client: Sidecar;
  let inventory: Sidecar;
  let dataDir: string;
  let grpcPort: number;

  before(async () => {
    const cp = await mesh.startControlPlane({ endpointGrace: '5s' });
    dataDir = cp.dataDir;
    grpcPort = cp.grpcPort;
    [{ sidecar: client }, { sidecar: inventory }] = await Promise.all([startMeshedEchoApp(mesh, apps, { service: 'client' }), startMeshedEchoApp(mesh, apps, { service: 'inventory' })]);
    await waitFor('client to reach inventory', async () => ((await callVia(client, 'inventory')).status === 200 ? true : undefined), 15_000);
  });

  after(async () => {
    await mesh.close();
    await Promise.all(apps.map((a) => a.close()));
  });

  it('keeps serving while the control plane is down, then reconnects and takes new config', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
    const load = new Load(() => callVia(client, 'inventory', { agent }), 4);
    try {
      await sleep(300);
      // Kill it hard, as a crash would: no goodbye on the streams.
      await mesh.group.stop(mesh.controlPlane.proc, 'SIGKILL', 0);
      await waitFor('the sidecar to notice the control plane is gone', async () => ((await sidecarConfig(client)).controlPlane.connected ? undefined : true));
      const duringOutage = load.results.length;
      // Longer than the endpoint grace period: the sidecars must not forget each other meanwhile.
      await sleep(6_000);
      expect(load.results.length - duringOutage, 'requests served during the outage').to.be.greaterThan(50);
      // Its reconnect attempts say in one line what failed and what to check, without gRPC's internals.
      const lost = client.proc.lines().map((l) => l.json).filter((j) => j?.['msg'] === 'control plane stream lost; serving the last config and reconnecting');
      expect(lost.map((j) => j?.['error'])).to.include(
        `cannot reach the control plane at 127.0.0.1:${grpcPort}: connection refused. Is weft-control-plane running, and is --control-plane right?`,
      );

      await mesh.startControlPlane({ dataDir, grpcPort, endpointGrace: '5s' });
      await waitFor('both sidecars to reconnect', async () => {
        const rows = await proxies(mesh);
        const connected = rows.filter((r) => r.connected && r.status === 'SYNCED').map((r) => r.name).sort();
        return connected.join() === 'client.default,inventory.default' ? true : undefined;
      }, 20_000);
      await sleep(500);
    } finally {
      await load.stop();
      agent.destroy();
    }
    expect(load.failures(), 'requests that failed across the outage and restart').to.deep.equal([]);

    // The restarted control plane kept its store and CA, and can still change the sidecars' config.
    const before = (await sidecarConfig(client)).config.version;
    await apply(mesh, `${API}\nkind: Route\nmetadata: {name: inventory}\nspec: {service: inventory, rules: [{timeout: 4s}]}\n`);
    await waitFor('the new route to reach the reconnected sidecar', async () => ((await sidecarConfig(client)).config.version !== before ? true : undefined));
    expect(echoOf(await callVia(client, 'inventory')).headers['x-weft-peer-identity']).to.equal('spiffe://weft.local/ns/default/sa/client');
    expect((await sidecarConfig(inventory)).controlPlane.connected).to.equal(true);
  });
});
