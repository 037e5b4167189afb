/**
 * A sidecar with a valid certificate for one service announces another service's inbound address
 * as its own (--advertise-address). The control plane dials announced addresses with TLS before
 * publishing them: the impostor's endpoint is refused (it serves the other identity), callers are
 * never sent it, and weftctl shows why. Real processes, real TLS, loopback.
 */
import { expect } from 'chai';
import { httpGetText, Mesh, parsePrometheusText, waitFor, type Sidecar } from '@weft/harness';
import { callVia, startEchoApp, type EchoApp } from './fixtures';

describe('an announced address is published only when it serves the announcing proxy\'s identity', function () {
  this.timeout(60_000);
  const mesh = new Mesh();
  const apps: EchoApp[] = [];
  let payments: Sidecar;
  let frontend: Sidecar;

  before(async () => {
    const cp = await mesh.startControlPlane();
    const [paymentsApp, ordersApp, frontendApp] = await Promise.all([startEchoApp('payments'), startEchoApp('orders'), startEchoApp('frontend')]);
    apps.push(paymentsApp, ordersApp, frontendApp);
    payments = await mesh.startSidecar({ service: 'payments', appPort: paymentsApp.port, token: await mesh.createToken('payments'), controlPlane: cp.endpoint });
    const paymentsAddress = `127.0.0.1:${payments.inboundPort}`;
    [, frontend] = await Promise.all([
      // A real sidecar for orders, with a valid orders certificate, claiming payments' inbound address.
      mesh.startSidecar({ service: 'orders', appPort: ordersApp.port, token: await mesh.createToken('orders'), controlPlane: cp.endpoint, extraArgs: ['--advertise-address', paymentsAddress] }),
      mesh.startSidecar({ service: 'frontend', appPort: frontendApp.port, token: await mesh.createToken('frontend'), controlPlane: cp.endpoint }),
    ]);
  });

  after(async () => {
    await mesh.close();
    await Promise.all(apps.map((a) => a.close()));
  });

  it('shows the impostor\'s endpoint as refused in get services and proxy-status, not ready for callers', async () => {
    const paymentsAddress = `127.0.0.1:${payments.inboundPort}`;
    const table = await waitFor('the orders endpoint to be refused', async () => {
      const out = await mesh.weftctl(['get', 'services']);
      return out.stdout.includes('(refused)') ? out.stdout : undefined;
    }, 15_000);
    const rows = table.trimEnd().split('\n').slice(1).map((r) => r.split(/\s{2,}/));
    expect(rows).to.deep.include(['default', 'orders', '0/1', '-', `${paymentsAddress} (refused)`]);
    expect(rows).to.deep.include(['default', 'payments', '1/1', '-', paymentsAddress]);

    const json = JSON.parse((await mesh.weftctl(['get', 'services', 'orders', '-o', 'json'])).stdout) as { endpoints: { verification: string; verificationDetail: string }[] };
    expect(json.endpoints.map((e) => [e.verification, e.verificationDetail])).to.deep.equal([
      ['refused', `${paymentsAddress} serves a certificate for spiffe://weft.local/ns/default/sa/payments, not spiffe://weft.local/ns/default/sa/orders`],
    ]);
    const proxies = JSON.parse((await mesh.weftctl(['proxy-status', '-o', 'json'])).stdout) as { service: string; addressVerification: string }[];
    expect(proxies.map((p) => `${p.service} ${p.addressVerification}`).sort()).to.deep.equal(['frontend verified', 'orders refused', 'payments verified']);
    const status = (await mesh.weftctl(['proxy-status'])).stdout;
    expect(status).to.match(new RegExp(`orders\\.default\\s+\\S+\\s+${paymentsAddress.replace(/\./g, '\\.')} \\(refused\\)`));

    const metrics = parsePrometheusText(await httpGetText(mesh.controlPlane.httpPort, '/metrics'));
    expect(metrics.find((s) => s.name === 'weft_cp_endpoint_verifications_total' && s.labels['result'] === 'refused')?.value).to.equal(1);
    const refusedLog = mesh.controlPlane.proc.lines().find((l) => l.json?.['msg'] === 'endpoint address refused: it serves another identity');
    expect(refusedLog?.json).to.include({ service: 'orders', address: paymentsAddress });
  });

  it('never sends callers to it: orders has no endpoints, payments is reached at its real address', async () => {
    const toPayments = await waitFor('frontend to reach payments', async () => {
      const r = await callVia(frontend, 'payments');
      return r.status === 200 ? r : undefined;
    }, 15_000);
    expect(toPayments.status).to.equal(200);
    const toOrders = await callVia(frontend, 'orders');
    expect(toOrders.status).to.equal(503);
    // Not PEER_IDENTITY (a dial to payments' address, caught by the caller): no endpoint was ever sent.
    expect(toOrders.headers['x-weft-error']).to.equal('WEFT_ERR_NO_ENDPOINTS');
  });
});
