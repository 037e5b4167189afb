import { expect } from 'chai';
import * as http from 'node:http';
import * as tls from 'node:tls';
import { httpRequest, Mesh, waitFor, type ControlPlane, type Sidecar } from '@weft/harness';
import { API, apply, callVia, echoOf, Load, sidecarConfig, sleep, startMeshedEchoApp, type EchoApp, type MeshedEchoApp } from './fixtures';
import { startMeshProbe, type MeshProbe } from './mesh-probe';

/** The serial number of the certificate an inbound port presents to a new handshake. */
function servedSerial(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, checkServerIdentity: () => undefined }, () => {
      const serial = socket.getPeerCertificate().serialNumber;
      socket.destroy();
      resolve(serial);
    });
    socket.on('error', reject);
  });
}

describe('sidecar lifecycle: draining on SIGTERM, certificate renewal in place', function () {
  this.timeout(90_000);
  const mesh = new Mesh();
  const apps: EchoApp[] = [];
  let cp: ControlPlane;
  let client: Sidecar;
  // Sees the client certificate of each connection a sidecar opens to it (joined before the short TTL).
  let probe: MeshProbe | undefined;

  const meshed = (service: string, labels: Record<string, string> = {}): Promise<MeshedEchoApp> =>
    startMeshedEchoApp(mesh, apps, { service, labels, appName: `${service}-${labels['instance'] ?? 'x'}`, extraArgs: ['--drain-timeout', '5s'] });

  before(async () => {
    cp = await mesh.startControlPlane();
    client = (await meshed('client')).sidecar;
    probe = await startMeshProbe(cp.configPath, 'probe', await mesh.createToken('probe'));
  });

  after(async () => {
    await probe?.close();
    await mesh.close();
    await Promise.all(apps.map((a) => a.close()));
  });

  it('lets a request in flight finish on SIGTERM, turns /ready 503, then exits 0', async () => {
    const slow = await meshed('slow');
    await waitFor('client to reach slow', async () => ((await callVia(client, 'slow')).status === 200 ? true : undefined), 15_000);
    slow.app.delayMs = 1500;
    const inFlight = callVia(client, 'slow', { path: '/long' });
    await waitFor('the slow request to reach the app', () => (slow.app.received.some((r) => r.url === '/long') ? true : undefined));

    const stopping = mesh.group.stop(slow.sidecar.proc, 'SIGTERM', 10_000);
    await waitFor('/ready to turn 503', async () => ((await httpRequest({ port: slow.sidecar.adminPort, path: '/ready' })).status === 503 ? true : undefined), 3_000);
    const res = await inFlight;
    expect(res.status, res.body).to.equal(200);
    expect(echoOf(res).url).to.equal('/long');
    expect(await stopping).to.deep.include({ code: 0 });
  });

  it('withdraws its endpoint before it stops, so callers lose no request when one replica stops', async () => {
    const a = await meshed('inventory', { instance: 'a' });
    const b = await meshed('inventory', { instance: 'b' });
    await waitFor('both replicas to take traffic', async () => {
      const seen = new Set<string>();
      for (let i = 0; i < 20; i++) seen.add(echoOf(await callVia(client, 'inventory')).app);
      return seen.size === 2 ? true : undefined;
    }, 15_000);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
    const load = new Load(() => callVia(client, 'inventory', { agent }), 6);
    try {
      await sleep(300);
      expect(await mesh.group.stop(a.sidecar.proc, 'SIGTERM', 10_000)).to.deep.include({ code: 0 });
      const afterStop = load.results.length;
      await sleep(500);
      expect(load.results.slice(afterStop).every((r) => r.status === 200 && echoOf(r).app === 'inventory-b')).to.equal(true);
    } finally {
      await load.stop();
      agent.destroy();
    }
    expect(load.failures(), 'requests that failed while a replica stopped').to.deep.equal([]);
    expect(b.app.received.length).to.be.greaterThan(0);
  });

  it('renews its certificate at half its lifetime, in place, without dropping requests, in both directions', async () => {
    await apply(mesh, `${API}\nkind: MeshConfig\nmetadata: {name: default}\nspec: {certificateTTL: 4s}\n`);
    // Sidecars started from here get 4-second certificates and renew about every 2 seconds.
    const { sidecar: target } = await meshed('ledger');
    const caller = (await meshed('teller')).sidecar;
    await waitFor('teller to reach ledger', async () => ((await callVia(caller, 'ledger')).status === 200 ? true : undefined), 15_000);

    await waitFor('teller to reach the probe', async () => ((await callVia(caller, 'probe')).status === 200 ? true : undefined), 15_000);
    const dialedBefore = (probe as MeshProbe).clientSerials.length;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
    const load = new Load(() => callVia(caller, 'ledger', { agent }), 3);
    const outbound = new Load(() => callVia(caller, 'probe', { agent }), 1);
    const serials = new Set<string>();
    const expiries = new Set<string>();
    try {
      const until = Date.now() + 7_000;
      while (Date.now() < until) {
        serials.add(await servedSerial(target.inboundPort));
        expiries.add((await sidecarConfig(target)).identity.certificateExpiresAt);
        await sleep(250);
      }
    } finally {
      await Promise.all([load.stop(), outbound.stop()]);
      agent.destroy();
    }
    expect(load.failures(), 'requests that failed across renewals').to.deep.equal([]);
    expect(outbound.failures(), 'requests to the probe that failed across renewals').to.deep.equal([]);
    // Outbound: the caller's pooled connections were replaced after each renewal, and every new
    // connection presented the certificate in force (the probe saw several, in turn).
    const dialed = (probe as MeshProbe).clientSerials.slice(dialedBefore);
    expect(new Set(dialed).size, 'client certificates presented to new connections').to.be.at.least(3);
    expect(load.results.length).to.be.greaterThan(50);
    // 7 seconds at one renewal per ~2 seconds: at least three certificates, each used by new handshakes.
    expect(serials.size, 'certificates served to new handshakes').to.be.at.least(3);
    expect(expiries.size).to.be.at.least(3);
    const config = await sidecarConfig(target);
    expect(Date.parse(config.identity.certificateExpiresAt)).to.be.greaterThan(Date.now());
  });
});
