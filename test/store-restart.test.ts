import { expect } from 'chai';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { Mesh } from '@weft/harness';
import { API, apply, readEverything } from './fixtures';

const EVERY_KIND = `${API}
kind: MeshConfig
metadata: {name: default}
spec: {accessLog: true, mtls: PERMISSIVE, minTLSVersion: TLSv1.2, certificateTTL: 12h, tracing: {otlpEndpoint: '127.0.0.1:4317', samplingPercent: 5}}
---
${API}
kind: Route
metadata: {name: orders}
spec: {service: orders, rules: [{match: [{path: {prefix: /api}}], timeout: 3s, retries: {attempts: 2, perTryTimeout: 1s, retryOn: [5xx]}}]}
---
${API}
kind: Route
metadata: {name: ledger, namespace: finance, labels: {team: money}}
spec: {service: ledger, rules: [{backends: [{subset: v1, weight: 80}, {subset: v2, weight: 20}]}]}
---
${API}
kind: ServicePolicy
metadata: {name: ledger, namespace: finance}
spec: {service: ledger, subsets: [{name: v1, labels: {version: v1}}, {name: v2, labels: {version: v2}}], loadBalancer: {algorithm: least-request}, rateLimit: {requestsPerSecond: 50, burst: 10}}
---
${API}
kind: AuthorizationPolicy
metadata: {name: orders-from-frontend}
spec: {service: orders, action: ALLOW, rules: [{from: [{service: frontend}], to: [{methods: [GET], paths: [/api/*]}]}]}
---
${API}
kind: AuthorizationPolicy
metadata: {name: no-delete}
spec: {service: orders, action: DENY, rules: [{to: [{methods: [DELETE]}]}]}
`;

describe('the control plane keeps everything across a restart', function () {
  this.timeout(90_000);
  const mesh = new Mesh();

  after(() => mesh.close());

  it('every kind applied, tokens created and revoked: all read back unchanged after a restart on the same data dir', async () => {
    const cp = await mesh.startControlPlane();
    await apply(mesh, EVERY_KIND);
    for (const args of [['--service', 'orders'], ['--service', 'ledger', '-n', 'finance', '--ttl', '2h', '--max-uses', '3']]) {
      const created = await mesh.weftctl(['token', 'create', ...args]);
      expect(created.code, created.stderr).to.equal(0);
    }
    const revoked = await mesh.weftctl(['token', 'create', '--service', 'old']);
    expect((await mesh.weftctl(['token', 'revoke', revoked.stdout.trim()])).code).to.equal(0);
    const before = await readEverything(mesh.controlPlane.configPath);
    expect((before['routes'] as unknown[]).length).to.equal(2);
    expect((before['tokens'] as unknown[]).length).to.equal(3);

    await mesh.group.stop(cp.proc, 'SIGTERM');
    await mesh.startControlPlane({ dataDir: cp.dataDir });
    expect(await readEverything(mesh.controlPlane.configPath)).to.deep.equal(before);
    // And what it read back can be changed again.
    await apply(mesh, `${API}\nkind: MeshConfig\nmetadata: {name: default}\nspec: {accessLog: false}\n`);
  });

  it('starts on a store.json an older build wrote (mesh-wide MeshConfig with namespace "")', async () => {
    const dataDir = await mesh.tempDir('old-store');
    await fs.writeFile(
      path.join(dataDir, 'store.json'),
      JSON.stringify({
        formatVersion: 1,
        revision: 3,
        resources: [
          { apiVersion: 'weft.dev/v1alpha1', kind: 'MeshConfig', metadata: { name: 'default', namespace: '' }, spec: { accessLog: true } },
          { apiVersion: 'weft.dev/v1alpha1', kind: 'Route', metadata: { name: 'orders', namespace: 'default' }, spec: { service: 'orders', rules: [{ timeout: '2s' }] } },
        ],
      }),
      { mode: 0o600 },
    );
    await mesh.startControlPlane({ dataDir });
    const got = await mesh.weftctl(['get', 'meshconfig', 'default', '-o', 'json']);
    expect(got.code, got.stderr).to.equal(0);
    expect(JSON.parse(got.stdout)).to.deep.equal({ apiVersion: 'weft.dev/v1alpha1', kind: 'MeshConfig', metadata: { name: 'default' }, spec: { accessLog: true } });
    const routes = await mesh.weftctl(['get', 'routes', '-o', 'json']);
    expect((JSON.parse(routes.stdout) as { metadata: { name: string } }[]).map((r) => r.metadata.name)).to.deep.equal(['orders']);
  });

  it('starts without a Route it cannot load, and logs which one and how to repair it', async () => {
    const dataDir = await mesh.tempDir('broken-store');
    const good = { apiVersion: 'weft.dev/v1alpha1', kind: 'Route', metadata: { name: 'orders', namespace: 'default' }, spec: { service: 'orders', rules: [{}] } };
    const bad = { apiVersion: 'weft.dev/v1alpha1', kind: 'Route', metadata: { name: 'ledger', namespace: 'default' }, spec: { service: 'ledger', rules: [{ timeout: 'later' }] } };
    await fs.writeFile(path.join(dataDir, 'store.json'), JSON.stringify({ formatVersion: 1, revision: 2, resources: [good, bad] }), { mode: 0o600 });
    const cp = await mesh.startControlPlane({ dataDir });
    const logged = cp.proc.lines().map((l) => l.json).find((j) => j?.['msg'] === 'stored resource not loaded');
    expect(logged).to.deep.include({ level: 'error', index: 2, kind: 'Route', name: 'ledger' });
    expect(String(logged?.['problem'])).to.contain('spec.rules[0].timeout').and.contain('weftctl apply -f');
    const routes = await mesh.weftctl(['get', 'routes', '-o', 'json']);
    expect((JSON.parse(routes.stdout) as { metadata: { name: string } }[]).map((r) => r.metadata.name)).to.deep.equal(['orders']);
  });
});
