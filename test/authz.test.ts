import { expect } from 'chai';
import { Mesh, parsePrometheusText, SPAN_KIND, startOtlpReceiver, sumSamples, httpGetText, waitFor, type OtlpReceiver, type Sidecar } from '@weft/harness';
import { API, apply, callVia, echoOf, getJson, startEchoApp, type EchoApp } from './fixtures';
import { bodyOf, rawExchange } from './raw-http';

const FRONTEND = 'spiffe://weft.local/ns/default/sa/frontend';

const POLICIES = `${API}
kind: AuthorizationPolicy
metadata: {name: orders-callers}
spec:
  service: orders
  action: ALLOW
  rules:
    - from: [{service: frontend}]
      to: [{methods: [GET, POST], paths: ["/orders", "/orders/*"]}]
    - from: [{service: batch, namespace: jobs}]
---
${API}
kind: AuthorizationPolicy
metadata: {name: orders-no-delete}
spec:
  service: orders
  action: DENY
  rules: [{to: [{methods: [DELETE]}]}]
`;

interface AuthzView {
  readonly inForce: { readonly authorization: { readonly policies: readonly { policy: string }[] } } | null;
}

/** The authorization policies an orders sidecar has in force, by name. */
async function policiesInForce(sidecar: Sidecar): Promise<string[]> {
  const view = await getJson<AuthzView>(sidecar.adminPort, '/config');
  return (view.body.inForce?.authorization.policies ?? []).map((p) => p.policy);
}

describe('authorization: AuthorizationPolicy enforced at the destination sidecar', function () {
  this.timeout(60_000);
  const mesh = new Mesh();
  let receiver: OtlpReceiver;
  const apps: EchoApp[] = [];
  let ordersApp: EchoApp;
  let orders: Sidecar;
  let frontend: Sidecar;
  let batch: Sidecar;

  before(async () => {
    receiver = await startOtlpReceiver();
    const cp = await mesh.startControlPlane();
    await apply(mesh, `${API}\nkind: MeshConfig\nmetadata: {name: default}\nspec: {tracing: {otlpEndpoint: "${receiver.endpoint}", samplingPercent: 100}}\n---\n${POLICIES}`);
    const [o, f, b] = await Promise.all(['orders', 'frontend', 'batch'].map((name) => startEchoApp(name)));
    ordersApp = o as EchoApp;
    apps.push(ordersApp, f as EchoApp, b as EchoApp);
    [orders, frontend, batch] = await Promise.all([
      mesh.startSidecar({ service: 'orders', appPort: ordersApp.port, token: await mesh.createToken('orders'), controlPlane: cp.endpoint }),
      mesh.startSidecar({ service: 'frontend', appPort: (f as EchoApp).port, token: await mesh.createToken('frontend'), controlPlane: cp.endpoint }),
      mesh.startSidecar({ service: 'batch', namespace: 'jobs', appPort: (b as EchoApp).port, token: await mesh.createToken('batch', 'jobs'), controlPlane: cp.endpoint }),
    ]);
    await waitFor('the orders endpoint at its callers', async () => ((await callVia(frontend, 'orders', { path: '/orders' })).status === 200 ? true : undefined), 15_000);
    await waitFor('batch to reach orders', async () => ((await callVia(batch, 'orders.default')).status === 200 ? true : undefined), 15_000);
  });

  after(async () => {
    await mesh.close();
    await Promise.all([receiver?.close(), ...apps.map((a) => a.close())]);
  });

  it('shows the policies in force on /config, DENY first', async () => {
    expect(await policiesInForce(orders)).to.deep.equal(['default/orders-no-delete', 'default/orders-callers']);
  });

  it('lets an allowed caller through, by service and by service in another namespace', async () => {
    expect(echoOf(await callVia(frontend, 'orders', { path: '/orders/7?x=1' })).url).to.equal('/orders/7?x=1');
    expect(echoOf(await callVia(batch, 'orders.default', { method: 'PUT', path: '/anything' })).headers['x-weft-peer-identity']).to.equal(
      'spiffe://weft.local/ns/jobs/sa/batch',
    );
  });

  it('refuses a DENY match with 403 naming the policy, and the app never sees it', async () => {
    const before = ordersApp.received.length;
    const res = await callVia(frontend, 'orders', { method: 'DELETE', path: '/orders/7' });
    expect(res.status).to.equal(403);
    expect(res.headers['x-weft-error']).to.equal('WEFT_ERR_AUTHZ_DENIED');
    expect(res.body).to.match(/^denied by AuthorizationPolicy default\/orders-no-delete \(DENY rule 0\): to see why, run `weftctl auth check /);
    // DENY applies to callers an ALLOW rule admits for everything else.
    expect((await callVia(batch, 'orders.default', { method: 'DELETE', path: '/x' })).status).to.equal(403);
    expect(ordersApp.received.length).to.equal(before);
  });

  it('refuses a caller and operation no ALLOW rule matches', async () => {
    const res = await callVia(frontend, 'orders', { path: '/admin' });
    expect(res.status).to.equal(403);
    expect(res.body).to.match(new RegExp(`^no ALLOW policy for orders matches caller ${FRONTEND} GET /admin: `));
  });

  it('judges the normalized path and hands the app that path, so dot segments and doubled slashes cannot sneak past', async () => {
    const before = ordersApp.received.length;
    for (const path of ['/orders/../admin', '//admin', '/%6frders/../admin']) {
      const res = await callVia(frontend, 'orders', { path });
      expect(res.status, path).to.equal(403);
      expect(res.body, path).to.contain('GET /admin');
    }
    expect((await callVia(frontend, 'orders', { path: '/orders/a%2F..%2F..%2Fadmin' })).status).to.equal(400);
    expect(ordersApp.received.length).to.equal(before);
    expect(echoOf(await callVia(frontend, 'orders', { path: '/orders//./7?q=1' })).url).to.equal('/orders/7?q=1');
  });

  it('counts refusals in weft_requests_denied_total by source, policy and cause', async () => {
    await callVia(frontend, 'orders', { method: 'DELETE', path: '/orders/1' });
    const samples = parsePrometheusText(await httpGetText(orders.adminPort, '/metrics'));
    const denied = (labels: Record<string, string>): number => sumSamples(samples, 'weft_requests_denied_total', { destination: 'orders.default', ...labels });
    expect(denied({ source: 'frontend.default', policy: 'default/orders-no-delete', cause: 'deny-rule' })).to.be.greaterThanOrEqual(2);
    expect(denied({ source: 'frontend.default', policy: '', cause: 'no-allow-match' })).to.be.greaterThanOrEqual(1);
    expect(denied({ source: 'batch.jobs', cause: 'deny-rule' })).to.equal(1);
    expect(sumSamples(samples, 'weft_requests_total', { direction: 'inbound', code: '403', source: 'frontend.default' })).to.be.greaterThanOrEqual(3);
  });

  it('marks the SERVER span of a refused request with the decision and the policy', async () => {
    const res = await callVia(frontend, 'orders', { method: 'DELETE', path: '/orders/traced' });
    expect(res.status).to.equal(403);
    const spans = await receiver.waitForSpans(
      (all) => all.some((s) => s.kind === SPAN_KIND.SERVER && s.serviceName === 'orders' && s.attributes['url.path'] === '/orders/traced'),
      15_000,
    );
    const server = spans.find((s) => s.kind === SPAN_KIND.SERVER && s.attributes['url.path'] === '/orders/traced');
    expect(server?.attributes).to.include({ 'weft.authz.decision': 'deny', 'weft.authz.policy': 'default/orders-no-delete', 'http.response.status_code': 403 });
  });

  it('weftctl auth check reaches the same decision as the sidecar, naming the same policy', async () => {
    const cases: readonly (readonly [Sidecar, string, string, string, string])[] = [
      [frontend, 'frontend', 'default', 'GET', '/orders/7'],
      [frontend, 'frontend', 'default', 'DELETE', '/orders/7'],
      [frontend, 'frontend', 'default', 'GET', '/admin'],
      [batch, 'batch', 'jobs', 'PUT', '/anything'],
      [frontend, 'frontend', 'default', 'GET', '/orders/../admin'],
    ];
    for (const [sidecar, from, fromNs, method, path] of cases) {
      const res = await callVia(sidecar, 'orders.default', { method, path });
      const cli = await mesh.weftctl(['auth', 'check', '--from', from, '--from-namespace', fromNs, '--to', 'orders', '--method', method, '--path', path, '-o', 'json']);
      const label = `${from} ${method} ${path}`;
      expect(cli.stderr, label).to.equal('');
      const decision = JSON.parse(cli.stdout) as { allowed: boolean; reason: string; httpStatus: number | null };
      expect(cli.code, label).to.equal(decision.allowed ? 0 : 1);
      expect(res.status, label).to.equal(decision.httpStatus ?? 200);
      if (!decision.allowed) expect(res.body.startsWith(`${decision.reason}: `), `${label}: ${res.body}`).to.equal(true);
    }
  });

  it('applies a policy change without a restart: deleting the DENY policy lets DELETE through', async () => {
    const del = await mesh.weftctl(['delete', 'authorizationpolicy', 'orders-no-delete']);
    expect(del.code, del.stderr).to.equal(0);
    await waitFor('orders to drop the DENY policy', async () => ((await policiesInForce(orders)).length === 1 ? true : undefined), 10_000);
    expect((await callVia(batch, 'orders.default', { method: 'DELETE', path: '/x' })).status).to.equal(200);
    // frontend's ALLOW rule never listed DELETE: still refused, now for lack of an ALLOW match.
    const res = await callVia(frontend, 'orders', { method: 'DELETE', path: '/orders/7' });
    expect(res.status).to.equal(403);
    expect(res.body).to.match(new RegExp(`^no ALLOW policy for orders matches caller ${FRONTEND} DELETE /orders/7: `));
  });

  it('holds a plaintext caller (PERMISSIVE mode) to rules without `from` only: it matches no service or principal', async () => {
    await apply(mesh, `${API}\nkind: MeshConfig\nmetadata: {name: default}\nspec: {mtls: PERMISSIVE, tracing: {otlpEndpoint: "${receiver.endpoint}"}}\n`);
    await waitFor('orders to run PERMISSIVE', async () => {
      const view = await getJson<{ inForce: { mesh: { mtls: string } } | null }>(orders.adminPort, '/config');
      return view.body.inForce?.mesh.mtls === 'PERMISSIVE' ? true : undefined;
    });
    const before = ordersApp.received.length;
    // It claims to be frontend; the header is ignored, and frontend's ALLOW rule does not apply.
    const raw = await rawExchange(
      { kind: 'tcp', port: orders.inboundPort },
      `GET /orders/1 HTTP/1.1\r\nHost: orders\r\nx-weft-peer-identity: ${FRONTEND}\r\nConnection: close\r\n\r\n`,
    );
    expect(raw.status, raw.data.slice(0, 300)).to.equal(403);
    expect(bodyOf(raw.data)).to.match(/^no ALLOW policy for orders matches caller \(no identity: plaintext\) GET \/orders\/1: /);
    expect(ordersApp.received.length).to.equal(before);
    // Mesh callers keep their identity over mTLS in PERMISSIVE mode.
    expect((await callVia(frontend, 'orders', { path: '/orders/1' })).status).to.equal(200);
  });
});
