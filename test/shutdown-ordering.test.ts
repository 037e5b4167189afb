import { expect } from 'chai';
import * as http from 'node:http';
import { httpRequest, Mesh, waitFor, type ControlPlane } from '@weft/harness';
import { callVia, Load, sleep, startEchoApp, type EchoApp } from './fixtures';

/**
 * Shutdown ordering where the kubelet cannot order it (no native sidecars) and on VMs: the app
 * and its sidecar get SIGTERM together, and the app may still call out while it finishes.
 */
describe('sidecar shutdown ordering: the app\'s outbound calls outlive SIGTERM', function () {
  this.timeout(90_000);
  const mesh = new Mesh();
  const apps: EchoApp[] = [];
  let cp: ControlPlane;

  before(async () => {
    cp = await mesh.startControlPlane();
  });

  after(async () => {
    await mesh.close();
    await Promise.all(apps.map((a) => a.close()));
  });

  it('keeps carrying the app\'s outbound calls after SIGTERM while the app still sends, then exits before the drain timeout', async () => {
    const payments = await startEchoApp('payments');
    apps.push(payments);
    await mesh.startSidecar({ service: 'payments', appPort: payments.port, token: await mesh.createToken('payments'), controlPlane: cp.endpoint });
    const app = await startEchoApp('checkout');
    apps.push(app);
    // A drain timeout longer than the stop's grace below: exit code 0 means it left early, on its own.
    const checkout = await mesh.startSidecar({ service: 'checkout', appPort: app.port, token: await mesh.createToken('checkout'), controlPlane: cp.endpoint, extraArgs: ['--drain-timeout', '60s', '--drain-quiet', '1s'] });
    await waitFor('checkout to reach payments', async () => ((await callVia(checkout, 'payments')).status === 200 ? true : undefined), 15_000);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 2 });
    const load = new Load(() => callVia(checkout, 'payments', { agent }), 2);
    let stopping: Promise<unknown> | undefined;
    let sinceSigterm = 0;
    try {
      await sleep(300);
      stopping = mesh.group.stop(checkout.proc, 'SIGTERM', 30_000);
      await waitFor('/ready to turn 503', async () => ((await httpRequest({ port: checkout.adminPort, path: '/ready' })).status === 503 ? true : undefined), 3_000);
      const atSigterm = load.results.length;
      // The app keeps working for longer than the 1 s announce wait, after which the outbound port
      // used to close; new connections as well as pooled ones must get through.
      await sleep(2_500);
      await new Promise<void>((resolve, reject) => callVia(checkout, 'payments', { agent: new http.Agent({ keepAlive: false }) }).then((r) => (r.status === 200 ? resolve() : reject(new Error(`status ${r.status}`))), reject));
      sinceSigterm = load.results.length - atSigterm;
    } finally {
      await load.stop();
      agent.destroy();
    }
    expect(load.failures(), 'outbound calls that failed after SIGTERM').to.deep.equal([]);
    expect(sinceSigterm, 'outbound calls served after SIGTERM').to.be.greaterThan(10);
    const exit = await stopping;
    expect(exit, checkout.proc.tail(30)).to.deep.include({ code: 0 });
    expect(checkout.proc.lines().map((l) => l.json?.['msg'])).to.include('app quiet; closing its ports');
  });
});
