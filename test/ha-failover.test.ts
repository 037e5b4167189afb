import { expect } from 'chai';
import * as fs from 'node:fs/promises';
import * as http from 'node:http';
import * as path from 'node:path';
import { Mesh, startEtcd, waitFor, weftctl, type ControlPlane, type EtcdCluster, type Sidecar } from '@weft/harness';
import { API, callVia, Load, sidecarConfig, sleep, startEchoApp, type EchoApp } from './fixtures';

/** Three control plane replicas on a three-member etcd cluster, all on loopback. */
describe('HA control plane: a replica killed under load and during applies', function () {
  this.timeout(180_000);
  const mesh = new Mesh();
  const apps: EchoApp[] = [];
  let etcd: EtcdCluster | undefined;
  let replicas: ControlPlane[] = [];
  let client: Sidecar;
  let inventory: Sidecar;
  let args: string[] = [];
  /** The replica the first test kills (the client's). */
  let killed: ControlPlane | undefined;

  const token = async (replica: ControlPlane, service: string): Promise<string> => {
    const out = await weftctl(['token', 'create', '--service', service], { config: replica.configPath });
    if (out.code !== 0) throw new Error(out.stderr);
    return out.stdout.trim();
  };

  before(async () => {
    etcd = await startEtcd({ members: 3 });
    const keyFile = path.join(await mesh.tempDir('key'), 'etcd.key');
    await fs.writeFile(keyFile, `${'5c'.repeat(32)}\n`, { mode: 0o600 });
    // A short grace: a replica holds rotation phases that long after it starts.
    args = ['--store', 'etcd', '--etcd-endpoints', etcd.endpoints, '--etcd-encryption-key-file', keyFile, '--endpoint-verification', 'off', '--endpoint-grace', '2s'];
    for (let i = 0; i < 3; i++) replicas.push(await mesh.startControlPlane({ extraArgs: args }));
    const [a, b, c] = replicas as [ControlPlane, ControlPlane, ControlPlane];
    const clientApp = await startEchoApp('client');
    const inventoryApp = await startEchoApp('inventory');
    apps.push(clientApp, inventoryApp);
    // Both get all three replicas, and each starts on the one its proxy id hashes to; the client
    // joins with a token made on A, inventory with one made on C: tokens live in etcd.
    [client, inventory] = await Promise.all([
      mesh.startSidecar({ service: 'client', appPort: clientApp.port, token: await token(a, 'client'), controlPlane: [a, b, c].map((r) => r.endpoint).join(',') }),
      mesh.startSidecar({ service: 'inventory', appPort: inventoryApp.port, token: await token(c, 'inventory'), controlPlane: [a, b, c].map((r) => r.endpoint).join(',') }),
    ]);
    await waitFor('client to reach inventory (endpoints through etcd)', async () => ((await callVia(client, 'inventory')).status === 200 ? true : undefined), 15_000);
  });

  after(async () => {
    await mesh.close();
    await Promise.all(apps.map((a) => a.close()));
    await etcd?.close();
  });

  it('kill -9 of the replica a sidecar uses: zero failed requests, the sidecar moves to another replica, and no acknowledged write is lost', async () => {
    // The replica the client's stream is on (its /config says which) dies; the other two stay.
    const used = (await sidecarConfig(client)).controlPlane.current;
    const a = replicas.find((r) => r.endpoint === used);
    if (!a) throw new Error(`the client uses ${used}, not one of ${replicas.map((r) => r.endpoint).join(', ')}`);
    killed = a;
    const [b, c] = replicas.filter((r) => r !== a) as [ControlPlane, ControlPlane];
    const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
    const load = new Load(() => callVia(client, 'inventory', { agent }), 4);
    // Applies through B and C all along; each one that reports success must be in force at the end.
    let applying = true;
    const acknowledged: number[] = [];
    const applies = (async () => {
      for (let n = 1; applying; n++) {
        const via = n % 2 === 0 ? b : c;
        const out = await weftctl(['apply', '-f', '-'], { config: via.configPath, input: `${API}\nkind: Route\nmetadata: {name: inventory}\nspec: {service: inventory, rules: [{timeout: ${n}s}]}\n` });
        if (out.code === 0) acknowledged.push(n);
      }
    })();
    try {
      await sleep(500);
      await mesh.group.stop(a.proc, 'SIGKILL', 0);
      await waitFor('the client sidecar to connect to another replica', async () => {
        const view = await sidecarConfig(client);
        return view.controlPlane.connected && view.controlPlane.current !== used ? true : undefined;
      }, 20_000);
      // Keep the load going past the switch and a few pushes from the new replica.
      await sleep(3_000);
    } finally {
      applying = false;
      await applies;
      await load.stop();
      agent.destroy();
    }
    expect(load.results.length, 'requests served').to.be.greaterThan(50);
    expect(load.failures(), 'requests that failed across the kill').to.deep.equal([]);

    // The client is served by B or C now: they list it as connected.
    const listed = await waitFor('a live replica to list the client as connected', async () => {
      for (const r of [b, c]) {
        const out = await weftctl(['proxy-status', '-o', 'json'], { config: r.configPath });
        const rows = JSON.parse(out.stdout) as { name: string; connected: boolean }[];
        if (rows.some((row) => row.name === 'client.default' && row.connected)) return true;
      }
      return undefined;
    }, 10_000);
    expect(listed).to.equal(true);

    // No lost write: the last acknowledged apply is what both live replicas hold.
    const last = acknowledged[acknowledged.length - 1];
    expect(last, 'applies acknowledged').to.be.a('number');
    for (const r of [b, c]) {
      const out = await weftctl(['get', 'routes', 'inventory', '-o', 'json'], { config: r.configPath });
      const route = JSON.parse(out.stdout) as { spec: { rules: { timeout: string }[] } };
      expect(route.spec.rules[0]?.timeout, r.endpoint).to.equal(`${last}s`);
    }
    expect((await sidecarConfig(inventory)).controlPlane.connected).to.equal(true);
  });

  it('kill -9 of the leader right after a root rotation started: the next leader finishes it, with no failed request', async () => {
    const live = replicas.filter((r) => r !== killed);
    // A replacement for the replica killed above, so that two remain after the leader goes.
    live.push(await mesh.startControlPlane({ extraArgs: args }));
    const leads = (r: ControlPlane): boolean => {
      const events = r.proc.lines().map((l) => l.json?.['msg']).filter((m) => m === 'elected leader' || m === 'stepped down as leader');
      return r.proc.running && events.at(-1) === 'elected leader';
    };
    const leader = await waitFor('one live replica to lead', () => live.find(leads), 15_000);
    const follower = live.find((r) => r !== leader) as ControlPlane;
    const status = async (r: ControlPlane): Promise<{ phase: string; roots: { fingerprint: string }[]; signingRootFingerprint: string }> =>
      JSON.parse((await weftctl(['ca', 'status', '-o', 'json'], { config: r.configPath })).stdout) as never;
    const oldRoot = (await status(follower)).signingRootFingerprint;
    // The first test left the route with whatever timeout its last apply set (a few seconds): this
    // test is about the rotation and the leader, so its requests get the default's headroom.
    const reset = await weftctl(['apply', '-f', '-'], { config: follower.configPath, input: `${API}\nkind: Route\nmetadata: {name: inventory}\nspec: {service: inventory, rules: [{timeout: 15s}]}\n` });
    expect(reset.code, reset.stderr).to.equal(0);
    await waitFor('the client sidecar to run the 15 s timeout', async () => (JSON.stringify((await sidecarConfig(client)).inForce).includes('"timeout":"15s"') ? true : undefined), 15_000);

    const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
    const load = new Load(() => callVia(client, 'inventory', { agent }), 4);
    try {
      await sleep(300);
      // Started through a follower (any replica may start one); the leader carries it on.
      const started = await weftctl(['ca', 'rotate-root'], { config: follower.configPath });
      expect(started.code, started.stderr).to.equal(0);
      expect(started.stdout).to.match(/overlap/);
      await mesh.group.stop(leader.proc, 'SIGKILL', 0);
      const survivors = live.filter((r) => r !== leader);
      await waitFor('another replica to be elected', () => survivors.find(leads), 20_000);
      for (const r of survivors) {
        await waitFor(`the rotation to complete as seen by ${r.endpoint}`, async () => {
          const s = await status(r);
          return s.phase === 'idle' && s.roots.length === 1 && s.signingRootFingerprint !== oldRoot ? true : undefined;
        }, 60_000);
      }
      await sleep(1_000);
    } finally {
      await load.stop();
      agent.destroy();
    }
    expect(load.failures(), 'requests that failed during the rotation and the leader kill').to.deep.equal([]);
    const newRoot = (await status(follower)).signingRootFingerprint;
    for (const sidecar of [client, inventory]) {
      const view = (await sidecarConfig(sidecar)) as unknown as { identity: { trustBundleFingerprints: string[]; certificateRootFingerprint: string } };
      expect(view.identity.trustBundleFingerprints, sidecar.service).to.deep.equal([newRoot]);
      expect(view.identity.certificateRootFingerprint, sidecar.service).to.equal(newRoot);
    }
  });
});
