/**
 * `weftctl check`, `weftctl proxy-status PROXY` and `weftctl proxy-config` against a real control
 * plane and sidecar: healthy, NACKing (a Route the control plane accepts and the sidecar refuses
 * for a reason of its host), and disconnected (its sidecar killed). Real processes on loopback.
 */
import { expect } from 'chai';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { Mesh, waitFor, type Sidecar } from '@weft/harness';
import { API, apply, sidecarConfig, startEchoApp, type EchoApp } from './fixtures';

interface ProxyRow {
  readonly status: string;
  readonly ackedVersion: string;
}

const route = (rule: string): string => `${API}\nkind: Route\nmetadata: {name: inventory}\nspec:\n  service: inventory\n  rules:\n  - ${rule}\n`;

/** Relative times ("in 23h59m", "2s ago") move between two runs; everything else must not. */
const withoutRelativeTimes = (text: string): string => text.replace(/\((in )?[0-9dhms]+( ago)?\)/g, '(T)').replace(/ACKed [0-9dhms]+ ago/g, 'ACKed T');

describe('weftctl check, proxy-status PROXY and proxy-config on a real mesh', function () {
  this.timeout(120_000);
  const mesh = new Mesh();
  const apps: EchoApp[] = [];
  let sidecar: Sidecar;
  let httpPort = 0;

  const proxy = async (): Promise<ProxyRow | undefined> => (JSON.parse((await mesh.weftctl(['proxy-status', '-o', 'json'])).stdout) as ProxyRow[])[0];
  const waitForStatus = (status: string): Promise<ProxyRow> => waitFor(`inventory's proxy to be ${status}`, async () => {
    const p = await proxy();
    return p?.status === status ? p : undefined;
  }, 30_000);

  before(async () => {
    const cp = await mesh.startControlPlane();
    httpPort = cp.httpPort;
    await apply(mesh, `${API}\nkind: ServicePolicy\nmetadata: {name: inventory}\nspec: {service: inventory, subsets: [{name: v1, labels: {version: v1}}]}\n`);
    const app = await startEchoApp('inventory');
    apps.push(app);
    sidecar = await mesh.startSidecar({ service: 'inventory', labels: { version: 'v1' }, appPort: app.port, token: await mesh.createToken('inventory'), controlPlane: cp.endpoint });
    await waitForStatus('SYNCED');
  });

  after(async () => {
    await mesh.close();
    await Promise.all(apps.map((a) => a.close()));
  });

  it('check passes on a healthy mesh: every line ✓, exit 0', async () => {
    const out = await waitFor('check to pass (the endpoint is verified and ready)', async () => {
      const r = await mesh.weftctl(['check']);
      return r.code === 0 ? r : undefined;
    }, 30_000);
    expect(out.stdout).to.contain(`✓ ready (http://127.0.0.1:${httpPort}/ready answered 200)`);
    expect(out.stdout).to.match(/✓ root [0-9a-f]{12} \(.*\) valid until \d{4}-\d\d-\d\d/);
    expect(out.stdout).to.contain('✓ the proxy is connected').and.contain('✓ the proxy is SYNCED').and.contain('✓ the proxy holds a valid certificate').and.contain('✓ the proxy is ready');
    expect(out.stdout).to.match(/✓ clock: this host is \S+ (behind|ahead of) the control plane/);
    expect(out.stdout).not.to.contain('✗');
    expect(out.stdout.trimEnd().split('\n').pop()).to.match(/^✓ all checks passed/);
    const json = JSON.parse((await mesh.weftctl(['check', '-o', 'json'])).stdout) as { ok: boolean; checks: { status: string }[] };
    expect(json.ok).to.equal(true);
    expect(json.checks.every((c) => c.status !== 'fail')).to.equal(true);
  });

  it('after an apply the proxy ACKs, proxy-status PROXY is in sync and proxy-config shows what the sidecar runs', async () => {
    await apply(mesh, route('timeout: 3s'));
    const text = await waitFor('the proxy to run the Route', async () => {
      const r = await mesh.weftctl(['proxy-config', 'inventory.default']);
      return /^default\s+inventory\s+inventory\s+1\s+\*\s+3s/m.test(r.stdout) ? r.stdout : undefined;
    }, 30_000);
    const dump = JSON.parse((await mesh.weftctl(['proxy-config', 'inventory.default', '-o', 'json'])).stdout) as { config: { version: string } };
    // The version the control plane says was ACKed is the one the sidecar itself says it runs.
    expect((await sidecarConfig(sidecar)).config.version).to.equal(dump.config.version);
    expect(text).to.match(/^STATUS:\s+SYNCED, runs version \S+/m).and.match(/^CERTIFICATE:\s+serial [0-9a-f]+, expires \d{4}-/m);
    expect(text).to.match(/^default\s+inventory\s+1\/1\s+v1 1\/1\s+127\.0\.0\.1:\d+ \{version=v1\}$/m);

    const status = await mesh.weftctl(['proxy-status', 'inventory.default']);
    expect(status.code).to.equal(0);
    expect(status.stdout).to.match(/^inventory\.default \([0-9a-f-]{8}\) is SYNCED: it runs version \S+/);
    expect(status.stdout).to.contain('in sync: what it ACKed is what the control plane would send now');
    expect(status.stdout).not.to.contain('@@');

    // A saved dump renders as the live one does.
    const dir = await mesh.tempDir('proxy-config-dump');
    const file = path.join(dir, 'dump.json');
    await fs.writeFile(file, JSON.stringify(dump));
    const fromFile = await mesh.weftctl(['proxy-config', '--file', file]);
    expect(fromFile.code, fromFile.stderr).to.equal(0);
    expect(withoutRelativeTimes(fromFile.stdout)).to.equal(withoutRelativeTimes(text));
  });

  it('a backoff whose maxInterval is below its baseInterval is refused at the edge, naming the resource and field', async () => {
    const refused = await mesh.weftctl(['apply', '-f', '-'], { input: route('retries: {attempts: 2, backoff: {baseInterval: 2s, maxInterval: 1s}}') });
    expect(refused.code).to.not.equal(0);
    expect(refused.stderr).to.contain('document 1: Route inventory: spec.rules[0].retries.backoff.maxInterval: must not be shorter than baseInterval (2s)');
    // Nothing reached the proxy: it stays in sync on what it ran.
    expect((await proxy())?.status).to.equal('SYNCED');
  });

  it('while the proxy NACKs, check fails with the NACK message and a hint, and proxy-status PROXY shows the pending change', async () => {
    // Accepted by the schema, refused by the sidecar: request headers beyond the HTTP header limit
    // of its Node (http.maxHeaderSize, a setting of the sidecar host that the schema cannot know).
    const big = 'x'.repeat(17_000);
    await apply(mesh, route(`headers: {request: {set: {x-tenant: ${big}}}}`));
    await waitForStatus('NACKED');
    const check = await mesh.weftctl(['check']);
    expect(check.code).to.equal(1);
    const nack = /✗ inventory\.default \([0-9a-f-]{8}\) rejected version \S+ \(NACK .*\): .*Route inventory: spec\.rules\[0\]\.headers\.request: sets and adds 17012 bytes of request headers, more than this sidecar's HTTP header limit of \d+ bytes/;
    expect(check.stdout).to.match(nack);
    expect(check.stdout).to.match(/raise the limit on every sidecar host\n {6}hint: fix the resource and field the message names and apply it again; it keeps running version \S+ until then/);
    expect(check.stdout.trimEnd().split('\n').pop()).to.match(/^✗ 1 check failed/);

    const status = await mesh.weftctl(['proxy-status', 'inventory.default']);
    expect(status.stdout).to.match(/is NACKED: it runs version \S+/).and.contain('last NACK (version');
    expect(status.stdout).to.match(/^--- acked \S+\n\+\+\+ current \S+\n@@ /m);
    expect(status.stdout).to.match(/^-\s+- timeout: 3s$/m);
    expect(status.stdout).to.contain(`x-tenant: ${big}`);
  });

  it('a disconnected proxy fails check with a hint, and a change applied meanwhile shows as pending', async () => {
    await apply(mesh, route('timeout: 4s'));
    await waitFor('the fix to be ACKed', async () => ((await mesh.weftctl(['proxy-status', 'inventory.default'])).stdout.includes('in sync') ? true : undefined), 30_000);
    await mesh.group.stop(sidecar.proc, 'SIGKILL', 0);
    await waitForStatus('DISCONNECTED');
    await apply(mesh, route('timeout: 5s'));

    const check = await mesh.weftctl(['check']);
    expect(check.code).to.equal(1);
    expect(check.stdout).to.match(/✗ inventory\.default \([0-9a-f-]{8}\) is disconnected since .* ago; it keeps serving its last configuration \(version \S+\)\n {6}hint: check that its sidecar runs and reaches the control plane/);

    const status = await mesh.weftctl(['proxy-status', 'inventory.default']);
    expect(status.stdout).to.match(/is DISCONNECTED: it runs version \S+/);
    expect(status.stdout).to.match(/^-\s+- timeout: 4s$/m).and.match(/^\+\s+- timeout: 5s$/m);
  });
});
