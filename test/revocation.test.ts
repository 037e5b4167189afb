import { expect } from 'chai';
import { httpRequest, Mesh, waitFor, type Sidecar } from '@weft/harness';
import { API, apply, callVia, sidecarConfig, startMeshedEchoApp, type EchoApp } from './fixtures';

interface RemovedView {
  identity: { certificateExpiresAt: string; renewalFailures: number; lastRenewalError: { code: string | null; message: string } | null };
  controlPlane: { connected: boolean; lastError: { code: string | null } | null };
}

interface ProxyJson {
  proxyId: string;
  service: string;
  connected: boolean;
}

describe('revocation: weftctl token revoke and weftctl proxy remove', function () {
  this.timeout(60_000);
  const mesh = new Mesh();
  const apps: EchoApp[] = [];

  const meshed = async (service: string, token?: string): Promise<Sidecar> =>
    (await startMeshedEchoApp(mesh, apps, { service, readyTimeoutMs: 15_000, ...(token === undefined ? {} : { token }) })).sidecar;

  async function ctl(args: string[]): Promise<{ stdout: string; stderr: string }> {
    const result = await mesh.weftctl(args);
    if (result.code !== 0) throw new Error(`weftctl ${args.join(' ')} failed (exit ${result.code}): ${result.stderr}`);
    return result;
  }

  before(async () => {
    await mesh.startControlPlane();
    // Short certificates: a removed proxy's certificate is dead within seconds. That is the story.
    await apply(mesh, `${API}\nkind: MeshConfig\nmetadata: {name: default}\nspec: {certificateTTL: 4s}\n`);
  });

  after(async () => {
    await mesh.close();
    await Promise.all(apps.map((a) => a.close()));
  });

  it('a revoked join token cannot start a sidecar, and token list shows it without its secret', async () => {
    const token = await mesh.createToken('ledger');
    const [, , id, secret] = token.split('.') as [string, string, string, string];
    expect((await ctl(['token', 'revoke', id])).stdout).to.equal(`token ${id} revoked (spiffe://weft.local/ns/default/sa/ledger)\n`);
    const refused = await meshed('ledger', token).then(() => 'started', (err: Error) => err.message);
    expect(refused).to.include('exit code 1').and.include(`join token ${id} was revoked at`).and.include('create a new one with `weftctl token create --service ledger`');
    const list = await ctl(['token', 'list']);
    expect(list.stdout).to.match(new RegExp(`${id}\\s+ledger\\.default\\s+revoked\\s+0/1`));
    const json = await ctl(['token', 'list', '-o', 'json']);
    expect(json.stdout + list.stdout).to.not.include(secret);
  });

  it('a removed proxy is cut off at once from discovery and callers, and its certificate dies at expiry', async () => {
    const buyer = await meshed('buyer');
    const seller = await meshed('seller');
    await waitFor('buyer to reach seller', async () => ((await callVia(buyer, 'seller')).status === 200 ? true : undefined), 15_000);
    const proxies = JSON.parse((await ctl(['proxy-status', '-o', 'json'])).stdout) as ProxyJson[];
    const sellerId = proxies.find((p) => p.service === 'seller' && p.connected)?.proxyId as string;

    const removed = await ctl(['proxy', 'remove', sellerId.slice(0, 8)]);
    expect(removed.stdout).to.match(new RegExp(`^proxy ${sellerId} \\(spiffe://weft.local/ns/default/sa/seller\\) removed: \\d+ certificates? revoked; its certificate stops working at `));
    expect(removed.stderr).to.match(/joined with join token [0-9a-f]{16}; .*weftctl token revoke/);
    // Callers stop sending to it right away (no endpoint grace for a removed proxy).
    await waitFor('seller to leave buyer\'s endpoints', async () => ((await callVia(buyer, 'seller')).status === 503 ? true : undefined), 5_000);

    const view = await waitFor('seller to be refused', async () => {
      const v = (await sidecarConfig(seller)) as unknown as RemovedView;
      return v.identity.lastRenewalError?.code === 'WEFT_ERR_PROXY_REMOVED' && v.controlPlane.lastError?.code === 'WEFT_ERR_PROXY_REMOVED' ? v : undefined;
    }, 10_000);
    expect(view.controlPlane.connected).to.equal(false);
    expect(view.identity.lastRenewalError?.message).to.include('was removed from the mesh');
    // Nothing renews it, so it expires and the sidecar stops being ready.
    const expiresAt = Date.parse(view.identity.certificateExpiresAt);
    expect(expiresAt - Date.now()).to.be.below(5_000);
    const unready = await waitFor('seller to turn unready', async () => {
      const res = await httpRequest({ port: seller.adminPort, path: '/ready' });
      return res.status === 503 ? res.body : undefined;
    }, 10_000);
    expect(Date.now()).to.be.at.least(expiresAt);
    expect(unready).to.include('the certificate has expired');
    // The buyer, never removed, keeps renewing.
    expect(((await sidecarConfig(buyer)) as unknown as RemovedView).identity.renewalFailures).to.equal(0);
  });
});
