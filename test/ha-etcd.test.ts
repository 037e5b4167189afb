import { expect } from 'chai';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import {
  httpGetText,
  httpRequest,
  Mesh,
  programPath,
  readOperatorConfig,
  repoRoot,
  runNode,
  startEtcd,
  waitFor,
  weftctl,
  type ControlPlane,
  type EtcdCluster,
} from '@weft/harness';
import { ControlPlaneClient, grpc } from './control-plane-client';
import { API, readEverything, sidecarConfig } from './fixtures';

/** 32 bytes, hex: what an operator would keep in a secret store and hand every replica. */
const ENCRYPTION_KEY = 'a3'.repeat(32);

async function applyVia(config: string, yaml: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return weftctl(['apply', '-f', '-'], { config, input: yaml });
}

function route(name: string, marker: string): string {
  return `${API}\nkind: Route\nmetadata: {name: ${name}}\nspec: {service: ${name}, rules: [{match: [{headers: [{name: x-marker, exact: ${marker}}]}], timeout: 3s}]}\n`;
}

describe('HA control plane on etcd: replicas share resources, tokens and the CA', function () {
  this.timeout(120_000);
  const mesh = new Mesh();
  let etcd: EtcdCluster | undefined;
  let keyFile = '';

  const replicaArgs = (): string[] => ['--store', 'etcd', '--etcd-endpoints', (etcd as EtcdCluster).endpoints, '--etcd-encryption-key-file', keyFile, '--endpoint-verification', 'off'];
  const replica = (dataDir?: string): Promise<ControlPlane> => mesh.startControlPlane({ ...(dataDir ? { dataDir } : {}), extraArgs: replicaArgs() });

  before(async () => {
    etcd = await startEtcd({ members: 1 });
    keyFile = path.join(await mesh.tempDir('key'), 'etcd.key');
    await fs.writeFile(keyFile, `${ENCRYPTION_KEY}\n`, { mode: 0o600 });
  });
  after(async () => {
    await mesh.close();
    await etcd?.close();
  });

  it('refuses to start in etcd mode without an encryption key, saying how to supply one', async () => {
    const dataDir = await mesh.tempDir('nokey');
    const result = await runNode(programPath('controlPlane'), ['--data-dir', dataDir, '--listen', '127.0.0.1:0', '--http', '127.0.0.1:0', '--store', 'etcd', '--etcd-endpoints', (etcd as EtcdCluster).endpoints], {
      cwd: repoRoot(),
      timeoutMs: 20_000,
      env: { WEFT_ETCD_ENCRYPTION_KEY: '' },
    });
    expect(result.code, result.stderr).to.equal(2);
    expect(result.stderr).to.include('--etcd-encryption-key-file').and.include('WEFT_ETCD_ENCRYPTION_KEY');
  });

  it('two replicas share one CA, an apply on A reaches a sidecar of B, tokens are single-use across replicas, and a restart reads everything back', async () => {
    const [a, b] = [await replica(), await replica()];
    // One mesh: both replicas serve the same root (the second one loaded what the first created).
    expect(readOperatorConfig(a.configPath).caPem).to.equal(readOperatorConfig(b.configPath).caPem);

    // The CA key in etcd is sealed: no PEM private key anywhere under the prefix.
    const raw = await (etcd as EtcdCluster).readPrefix('/weft/');
    expect(raw.map((kv) => kv.key)).to.include('/weft/ca/authority');
    for (const kv of raw) expect(kv.value, kv.key).to.not.match(/PRIVATE KEY/);

    // A token created on A joins a sidecar through B, once.
    const tokenOut = await weftctl(['token', 'create', '--service', 'orders'], { config: a.configPath });
    expect(tokenOut.code, tokenOut.stderr).to.equal(0);
    const token = tokenOut.stdout.trim();
    const { sidecar } = await mesh.startMeshedApp({ name: 'orders', token, controlPlane: b.endpoint });
    const again = new ControlPlaneClient(readOperatorConfig(a.configPath));
    try {
      const second = await again.sign(sidecar.spiffeId, token);
      expect(second.ok).to.equal(false);
      if (!second.ok) {
        expect(second.code).to.equal(grpc.status.PERMISSION_DENIED);
        expect(second.details).to.include('has been used 1 time');
      }
    } finally {
      again.close();
    }

    // An apply through A reaches the sidecar connected to B, through B's watch on etcd.
    const applied = await applyVia(a.configPath, route('orders', 'via-replica-a'));
    expect(applied.code, applied.stderr).to.equal(0);
    const sent = Date.now();
    await waitFor('the route applied on A to be in force on the sidecar of B', async () => (JSON.stringify((await sidecarConfig(sidecar)).inForce).includes('via-replica-a') ? true : undefined), 5_000);
    // The watch and a debounced push, not a poll: well within a second even on a loaded machine.
    expect(Date.now() - sent).to.be.below(1_000);

    // Both replicas read the same, and read it back after both restarted.
    const before = await readEverything(a.configPath);
    expect(await readEverything(b.configPath)).to.deep.equal(before);
    expect((before['tokens'] as unknown[]).length).to.equal(1);
    await Promise.all([mesh.group.stop(a.proc, 'SIGTERM'), mesh.group.stop(b.proc, 'SIGTERM')]);
    const [a2, b2] = [await replica(a.dataDir), await replica(b.dataDir)];
    expect(await readEverything(a2.configPath)).to.deep.equal(before);
    expect(await readEverything(b2.configPath)).to.deep.equal(before);
  });

  it('concurrent applies on two replicas never half-apply: every pair of resources comes from one apply', async () => {
    const [a, b] = [await replica(), await replica()];
    const pair = (i: number): string => `${route('left', `gen-${i}`)}---\n${route('right', `gen-${i}`)}`;
    const outcomes = await Promise.all(Array.from({ length: 8 }, (_, i) => applyVia(i % 2 === 0 ? a.configPath : b.configPath, pair(i))));
    for (const o of outcomes) {
      // Every apply lands, or is refused whole with the conflict code (never half-written).
      if (o.code !== 0) expect(o.stderr).to.include('WEFT_ERR_CONFLICT');
    }
    expect(outcomes.some((o) => o.code === 0)).to.equal(true);
    const agreed: string[] = [];
    for (const config of [a.configPath, b.configPath]) {
      const marker = await waitFor('both replicas to agree', async () => {
        const out = await weftctl(['get', 'routes', '-o', 'json'], { config });
        const list = JSON.parse(out.stdout) as { metadata: { name: string }; spec: { rules: { match: { headers: { exact: string }[] }[] }[] } }[];
        const marker = (name: string): string | undefined => list.find((r) => r.metadata.name === name)?.spec.rules[0]?.match[0]?.headers[0]?.exact;
        return marker('left') !== undefined && marker('left') === marker('right') ? marker('left') : undefined;
      }, 5_000);
      agreed.push(marker);
    }
    expect(agreed[0]).to.match(/^gen-\d$/);
    expect(agreed[1]).to.equal(agreed[0]);
  });

  it('a stored document this build cannot load is logged, skipped, and replaced by the next apply of that name', async () => {
    await (etcd as EtcdCluster).writeKey('/weft/resources/Route/default/broken', JSON.stringify({ apiVersion: 'weft.dev/v1alpha1', kind: 'Route', metadata: { name: 'broken' }, spec: { rules: 'not a list' } }));
    const r = await replica();
    expect(r.proc.lines().some((l) => l.json?.['msg'] === 'stored resource not loaded' && String(l.json['key']).endsWith('broken'))).to.equal(true);
    const applied = await applyVia(r.configPath, route('broken', 'repaired'));
    expect(applied.code, applied.stderr).to.equal(0);
    const stored = (await (etcd as EtcdCluster).readPrefix('/weft/resources/Route/default/broken'))[0]?.value ?? '';
    expect(stored).to.include('repaired');
  });

  it('refuses to start on an AuthorizationPolicy in etcd it cannot load, as the file store does (skipping a DENY would open the mesh)', async () => {
    const key = '/weft/resources/AuthorizationPolicy/default/no-delete';
    await (etcd as EtcdCluster).writeKey(key, JSON.stringify({ apiVersion: 'weft.dev/v1alpha1', kind: 'AuthorizationPolicy', metadata: { name: 'no-delete' }, spec: { action: 'MAYBE' } }));
    try {
      const dataDir = await mesh.tempDir('unsafe');
      const result = await runNode(programPath('controlPlane'), ['--data-dir', dataDir, '--listen', '127.0.0.1:0', '--http', '127.0.0.1:0', ...replicaArgs()], { cwd: repoRoot(), timeoutMs: 30_000 });
      expect(result.code, result.stderr).to.equal(1);
      expect(result.stderr).to.include(key).and.include('could let through traffic it governs');
    } finally {
      // Repaired the way the message says, so that the tests after this one start.
      await (etcd as EtcdCluster).writeKey(key, JSON.stringify({ apiVersion: 'weft.dev/v1alpha1', kind: 'AuthorizationPolicy', metadata: { name: 'no-delete' }, spec: { service: 'orders', action: 'DENY', rules: [{ to: [{ methods: ['DELETE'] }] }] } }));
    }
  });

  // Last: it stops the etcd member the suite shares.
  it('a replica that loses etcd keeps serving its sidecars, says so in /ready and metrics, and refuses writes with a clear code', async () => {
    const c = await replica();
    const tokenOut = await weftctl(['token', 'create', '--service', 'ledger'], { config: c.configPath });
    const { sidecar } = await mesh.startMeshedApp({ name: 'ledger', token: tokenOut.stdout.trim(), controlPlane: c.endpoint });
    await (etcd as EtcdCluster).members[0]?.kill();

    const ready = await waitFor('/ready to report the store as unavailable', async () => {
      const res = await httpRequest({ port: c.httpPort, path: '/ready' });
      return res.body.includes('store unavailable') ? res : undefined;
    }, 15_000);
    // Still ready: it serves discovery and identity from what it holds.
    expect(ready.status).to.equal(200);
    const metrics = await httpGetText(c.httpPort, '/metrics');
    expect(metrics).to.match(/^weft_cp_store_available 0$/m);
    for (const args of [['apply', '-f', '-'], ['token', 'create', '--service', 'late']]) {
      const out = await weftctl(args, { config: c.configPath, input: route('ledger', 'refused') });
      expect(out.code, args.join(' ')).to.equal(1);
      expect(out.stderr).to.include('WEFT_ERR_STORE_UNAVAILABLE').and.include('refuses writes');
    }
    // Its sidecar stays connected and configured (endpoints of replicas gone earlier may still leave it).
    const view = await sidecarConfig(sidecar);
    expect(view.controlPlane.connected).to.equal(true);
    expect(view.config.version).to.be.a('string');
    expect(c.proc.lines().some((l) => l.json?.['msg'] === 'etcd unreachable: serving the last known state and refusing writes')).to.equal(true);
  });
});
