/**
 * What an operator sees from the three commands: versions, a control plane that is down, the
 * services table, and `auth check` on a service nobody knows. Real processes on loopback.
 */
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { findFreePort, Mesh, programPath, repoRoot, runNode, waitFor, type PROGRAMS } from '@weft/harness';
import { API, apply, startEchoApp, type EchoApp } from './fixtures';

/** The release as @weft/api's package.json says, read here independently of the code under test. */
const RELEASE = (JSON.parse(fs.readFileSync(path.join(repoRoot(), 'packages', 'api', 'package.json'), 'utf8')) as { version: string }).version;

describe('what an operator sees from weftctl, weft-control-plane and weft-sidecar', function () {
  this.timeout(60_000);
  const mesh = new Mesh();
  const apps: EchoApp[] = [];

  after(async () => {
    await mesh.close();
    await Promise.all(apps.map((a) => a.close()));
  });

  it('--version on all three commands prints the release', async () => {
    const programs: [keyof typeof PROGRAMS, string][] = [['controlPlane', 'weft-control-plane'], ['sidecar', 'weft-sidecar'], ['weftctl', 'weftctl']];
    for (const [program, name] of programs) {
      const out = await runNode(programPath(program), ['--version'], { cwd: repoRoot() });
      expect([out.code, out.stdout, out.stderr], name).to.deep.equal([0, `${name} ${RELEASE}\n`, '']);
    }
  });

  it('weftctl version shows its own and the control plane\'s version, without a warning when they agree', async () => {
    const cp = await mesh.startControlPlane();
    const out = await mesh.weftctl(['version']);
    expect(out.code, out.stderr).to.equal(0);
    expect(out.stdout).to.equal(`weftctl        ${RELEASE}\ncontrol plane  ${RELEASE} (${cp.endpoint})\n`);
    expect(out.stderr).to.equal('');
  });

  it('a sidecar that cannot reach the control plane says so in one line: address, what failed, what to check', async () => {
    const port = await findFreePort();
    const token = `weft1.${'a'.repeat(64)}.${'b'.repeat(16)}.${'C'.repeat(43)}`;
    const proc = mesh.group.spawn({
      name: 'sidecar-no-control-plane',
      script: programPath('sidecar'),
      // prettier-ignore
      args: ['--service', 'orders', '--app-port', '1', '--control-plane', `127.0.0.1:${port}`, '--outbound-port', '0', '--inbound-port', '0',
        '--admin-port', '0', '--bind-inbound', '127.0.0.1', '--bind-admin', '127.0.0.1'],
      cwd: repoRoot(),
      env: { WEFT_TOKEN: token },
    });
    try {
      const line = await mesh.group.waitForLog(proc, (e) => typeof e['error'] === 'string', 15_000);
      expect(line['error']).to.equal(`cannot reach the control plane at 127.0.0.1:${port}: connection refused. Is weft-control-plane running, and is --control-plane right?`);
    } finally {
      await mesh.group.stop(proc, 'SIGKILL', 0);
    }
  });

  it('get services shows each endpoint\'s labels and each subset with the endpoints it matches', async () => {
    const cp = mesh.controlPlane;
    await apply(mesh, `${API}\nkind: ServicePolicy\nmetadata: {name: inventory}\nspec: {service: inventory, subsets: [{name: v1, labels: {version: v1}}, {name: v2, labels: {version: v2}}]}\n`);
    const app = await startEchoApp('inventory');
    apps.push(app);
    await mesh.startSidecar({ service: 'inventory', labels: { version: 'v1', zone: 'a' }, appPort: app.port, token: await mesh.createToken('inventory'), controlPlane: cp.endpoint });
    const table = await waitFor('the endpoint to be ready in get services', async () => {
      const out = await mesh.weftctl(['get', 'services']);
      return out.stdout.includes('1/1 ') ? out.stdout : undefined;
    });
    const [header, row] = table.trimEnd().split('\n') as [string, string];
    expect(header.split(/\s{2,}/)).to.deep.equal(['NAMESPACE', 'NAME', 'ENDPOINTS', 'SUBSETS', 'ADDRESSES']);
    expect(row).to.match(/^default\s+inventory\s+1\/1\s+v1 1\/1, v2 0\/0\s+127\.0\.0\.1:\d+ \{version=v1,zone=a\}$/);
  });

  it('auth check warns about a service nobody knows, and still gives the decision', async () => {
    const out = await mesh.weftctl(['auth', 'check', '--from', 'frontend', '--to', 'inventroy', '--method', 'GET', '--path', '/']);
    expect(out.code).to.equal(0);
    expect(out.stdout).to.match(/^ALLOWED: /);
    expect(out.stderr).to.contain('warning: --to inventroy: no service "inventroy" in namespace "default" is known to the control plane').and.contain('did you mean "inventory"?');
    expect(out.stderr).to.contain('warning: --from frontend: no service "frontend" in namespace "default" is known');
    const known = await mesh.weftctl(['auth', 'check', '--from', 'inventory', '--to', 'inventory', '--method', 'GET', '--path', '/']);
    expect([known.code, known.stderr]).to.deep.equal([0, '']);
  });
});
