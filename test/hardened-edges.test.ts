/**
 * Hardened edges of the control plane: join tokens, the discovery stream, renewals and the admin
 * API, each tried with credentials that must not work, against the real control plane and the
 * real weft-sidecar binary. Every refusal is paired with the same call made properly, so a test
 * fails if the edge is open and also if the setup is broken.
 */
import { expect } from 'chai';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { CertificateAuthority, generateKeyPair } from '@weft/pki';
import { Mesh, programPath, readOperatorConfig, repoRoot, runNode, weftctl, type ClientCredential, type RunResult } from '@weft/harness';
import type { OperatorConfig, WireServiceEndpoints } from '@weft/api';
import { ControlPlaneClient, grpc, workloadCredential } from './control-plane-client';

const ID = (service: string, namespace = 'default'): string => `spiffe://weft.local/ns/${namespace}/sa/${service}`;

describe('hardened edges: tokens, discovery, renewal and the admin API refuse what they must', function () {
  this.timeout(60_000);
  const mesh = new Mesh();
  let op: OperatorConfig;
  let orders: ClientCredential;
  const clients: ControlPlaneClient[] = [];
  const client = (credential?: ClientCredential): ControlPlaneClient => {
    const c = new ControlPlaneClient(op, credential);
    clients.push(c);
    return c;
  };

  /** The real sidecar binary with a token, up to the point where it gets (or is refused) a certificate. */
  const runSidecar = (service: string, token: string): Promise<RunResult> =>
    runNode(
      programPath('sidecar'),
      // prettier-ignore
      ['--service', service, '--app-port', '1', '--control-plane', mesh.controlPlane.endpoint,
        '--outbound-port', '0', '--inbound-port', '0', '--admin-port', '0', '--bind-inbound', '127.0.0.1', '--bind-admin', '127.0.0.1'],
      { cwd: repoRoot(), env: { WEFT_TOKEN: token }, timeoutMs: 20_000 },
    );
  /** The message of the sidecar's `cannot start` log line. */
  const whyNot = (run: RunResult): string => run.stderr.split('\n').find((l) => l.includes('cannot start')) ?? `(no "cannot start" line) ${run.stderr}`;

  before(async () => {
    const cp = await mesh.startControlPlane();
    op = readOperatorConfig(cp.configPath);
    orders = await workloadCredential(op, await mesh.createToken('orders'), 'orders');
  });

  after(async () => {
    for (const c of clients.splice(0)) c.close();
    await mesh.close();
  });

  describe('join tokens', () => {
    it('a token for orders cannot get a certificate for payments: the sidecar exits 1 saying so', async () => {
      const token = await mesh.createToken('orders');
      const run = await runSidecar('payments', token);
      expect(run.code, run.stderr).to.equal(1);
      expect(whyNot(run)).to.contain(`is bound to ${ID('orders')}, but the CSR asks for ${ID('payments')}`);
      // The refusal names the token by its id and never repeats its secret.
      expect(run.stderr).to.not.contain(token.split('.')[3]);
      // The same token does sign the identity it was made for.
      expect((await client().sign(ID('orders'), token)).ok).to.equal(true);
    });

    it('an expired token is refused with a message that says how to get a new one', async () => {
      const created = await mesh.weftctl(['token', 'create', '--service', 'orders', '--ttl', '1s']);
      expect(created.code, created.stderr).to.equal(0);
      await new Promise((r) => setTimeout(r, 1_100));
      const run = await runSidecar('orders', created.stdout.trim());
      expect(run.code, run.stderr).to.equal(1);
      expect(whyNot(run)).to.match(/join token [0-9a-f]+ expired at .*: create a new one with `weftctl token create --service orders`/);
    });

    it('an over-used token is refused, and a refusal does not use it up', async () => {
      const created = await mesh.weftctl(['token', 'create', '--service', 'orders', '--max-uses', '1']);
      const token = created.stdout.trim();
      // A refused request (wrong identity) first: it must not spend the only use.
      expect((await client().sign(ID('payments'), token)).ok).to.equal(false);
      expect((await client().sign(ID('orders'), token)).ok, 'the first use must succeed').to.equal(true);
      const run = await runSidecar('orders', token);
      expect(run.code, run.stderr).to.equal(1);
      expect(whyNot(run)).to.match(/has been used 1 time, its limit \(--max-uses 1, the default: each sidecar joins with its own token\)/);
    });

    it('by default a token lets one sidecar join: a second sidecar with it is refused, saying why and what to do', async () => {
      const created = await mesh.weftctl(['token', 'create', '--service', 'orders']);
      expect(created.code, created.stderr).to.equal(0);
      expect(created.stderr).to.contain('at most 1 use');
      const token = created.stdout.trim();
      expect((await client().sign(ID('orders'), token)).ok, 'the first join must succeed').to.equal(true);
      const second = await runSidecar('orders', token);
      expect(second.code, second.stderr).to.equal(1);
      expect(whyNot(second)).to.match(/join token [0-9a-f]{16} has been used 1 time, its limit \(--max-uses 1, the default: each sidecar joins with its own token\): create a new one with `weftctl token create --service orders`/);
      const id = token.split('.')[2] as string;
      expect((await mesh.weftctl(['token', 'list'])).stdout).to.match(new RegExp(`${id}\\s+orders\\.default\\s+exhausted\\s+1/1`));
    });

    it('a token created with --max-uses unlimited lets several sidecars join', async () => {
      const token = (await mesh.weftctl(['token', 'create', '--service', 'orders', '--max-uses', 'unlimited'])).stdout.trim();
      for (let i = 0; i < 3; i++) expect((await client().sign(ID('orders'), token)).ok, `join ${i + 1}`).to.equal(true);
    });

    it('a token with a guessed secret, or for another control plane, is refused', async () => {
      const [prefix, fingerprint, id] = (await mesh.createToken('orders')).split('.');
      const guessed = await client().sign(ID('orders'), `${prefix}.${fingerprint}.${id}.${'A'.repeat(43)}`);
      expect(guessed.ok ? 'signed' : guessed.code).to.equal(grpc.status.UNAUTHENTICATED);
      expect(guessed.ok ? '' : guessed.details).to.match(/is not valid for this control plane/);
      // The sidecar checks the root fingerprint first: a token for another mesh never reaches Sign.
      const run = await runSidecar('orders', `${prefix}.${'0'.repeat(64)}.${id}.${'A'.repeat(43)}`);
      expect(run.code).to.equal(1);
      expect(whyNot(run)).to.match(/fingerprint|root/i);
    });
  });

  describe('the certificate, not the message, says who a caller is', () => {
    const node = (service: string, address: string) => ({
      node: { proxyId: `probe-${service}-${Date.now()}`, service, namespace: 'default', address, labels: {}, ready: false, proxyVersion: 'test', certificateExpiresAtMs: 0 },
      responseNonce: '',
      version: '',
      error: '',
    });

    it('a sidecar cannot announce an endpoint for another service on the discovery stream', async () => {
      const refused = await client(orders).discoverOnce(node('payments', '127.0.0.1:9'));
      expect(refused.code).to.equal(grpc.status.PERMISSION_DENIED);
      expect(refused.details).to.contain(`does not match the certificate's identity ${ID('orders')}`);
      const services = await mesh.weftctl(['get', 'services', '-A', '-o', 'json']);
      expect((JSON.parse(services.stdout) as WireServiceEndpoints[]).flatMap((s) => s.endpoints.map((e) => e.address))).to.not.include('127.0.0.1:9');
      // Announcing its own service (without an address) is answered with a snapshot.
      expect((await client(orders).discoverOnce(node('orders', ''))).response?.version).to.be.a('string');
    });

    it('a renewal keeps the identity of the certificate that authenticates it', async () => {
      const other = await client(orders).sign(ID('payments'));
      expect(other.ok ? 'signed' : other.code).to.equal(grpc.status.PERMISSION_DENIED);
      expect(other.ok ? '' : other.details).to.contain('a renewal keeps the same identity');
      expect((await client(orders).sign(ID('orders'))).ok, 'renewing its own identity works').to.equal(true);
      const anonymous = await client().sign(ID('orders'));
      expect(anonymous.ok ? 'signed' : anonymous.code).to.equal(grpc.status.UNAUTHENTICATED);
    });

    it('nobody gets a certificate in weft-system, the operator and control plane namespace', async () => {
      const token = await mesh.createToken('orders');
      for (const id of ['spiffe://weft.local/ns/weft-system/sa/weft-operator', 'spiffe://weft.local/ns/weft-system/sa/weft-control-plane']) {
        const signed = await client().sign(id, token);
        expect(signed.ok ? 'signed' : signed.code, id).to.equal(grpc.status.PERMISSION_DENIED);
      }
    });
  });

  describe('the admin API', () => {
    it('refuses a caller without a certificate, with a workload certificate, and with a forged operator certificate', async () => {
      const stranger = CertificateAuthority.createRoot('weft.local');
      const keys = generateKeyPair();
      const forged = stranger.issue({ publicKeyPem: keys.publicKeyPem, uris: [ID('weft-operator', 'weft-system')], ttlMs: 60_000, usage: 'workload' });
      const callers: readonly (readonly [string, ClientCredential | undefined, readonly grpc.status[]])[] = [
        ['no certificate', undefined, [grpc.status.UNAUTHENTICATED]],
        ['a workload certificate', orders, [grpc.status.PERMISSION_DENIED]],
        // Not chained to the mesh CA: either the handshake fails or the call is anonymous.
        ['a forged operator certificate', { certificatePem: forged.certificatePem, privateKeyPem: keys.privateKeyPem }, [grpc.status.UNAUTHENTICATED, grpc.status.UNAVAILABLE]],
      ];
      const route = JSON.stringify({ apiVersion: 'weft.dev/v1alpha1', kind: 'Route', metadata: { name: 'evil' }, spec: { service: 'orders', rules: [{}] } });
      for (const [who, credential, codes] of callers) {
        const c = client(credential);
        const calls = [
          await c.admin('ListProxies', {}),
          await c.admin('CreateToken', { service: 'orders', namespace: 'default', ttlSeconds: 0, maxUses: 0 }),
          await c.admin('Apply', { documents: [{ source: 'evil', index: 1, json: route }], dryRun: false }),
        ];
        for (const r of calls) expect(r.ok ? 'OK' : r.code, who).to.be.oneOf(codes);
      }
      const stored = await mesh.weftctl(['get', 'routes', '-A', '-o', 'json']);
      expect(JSON.parse(stored.stdout)).to.deep.equal([]);
      expect((await client({ certificatePem: op.certificatePem, privateKeyPem: op.privateKeyPem }).admin('ListProxies', {})).ok, 'the operator is let in').to.equal(true);
    });

    it('weftctl with a workload certificate in its configuration is refused and says why', async () => {
      const dir = await mesh.tempDir('workload-config');
      const config = path.join(dir, 'weftctl.json');
      await fs.writeFile(config, JSON.stringify({ ...op, certificatePem: orders.certificatePem, privateKeyPem: orders.privateKeyPem }), { mode: 0o600 });
      const run = await weftctl(['get', 'routes'], { config });
      expect(run.code).to.equal(1);
      expect(run.stderr).to.contain('the control plane refused the operator credential');
      expect(run.stderr).to.contain(`presented ${ID('orders')}`);
    });
  });
});
