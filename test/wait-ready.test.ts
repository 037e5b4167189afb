import { expect } from 'chai';
import { findFreePort, httpRequest, Mesh, programPath, repoRoot, runNode, waitFor } from '@weft/harness';
import { sleep, startEchoApp, type EchoApp } from './fixtures';

/** `weft-sidecar wait-ready` as an entrypoint wrapper or postStart hook would run it. */
function waitReady(adminPort: number, timeout: string): Promise<{ code: number | null; stderr: string }> {
  return runNode(programPath('sidecar'), ['wait-ready', '--admin-port', String(adminPort), '--timeout', timeout], { cwd: repoRoot(), timeoutMs: 90_000 });
}

describe('weft-sidecar wait-ready: the app starts only once its sidecar is ready', function () {
  this.timeout(90_000);
  const mesh = new Mesh();
  let app: EchoApp | undefined;

  after(async () => {
    await mesh.close();
    await app?.close();
  });

  it('waits while the sidecar is not ready, and exits 0 once /ready answers 200', async () => {
    // A control plane that is down when the sidecar starts: the sidecar's admin port answers 503
    // until the control plane is back and has signed its certificate.
    const cp = await mesh.startControlPlane();
    const { dataDir, grpcPort } = cp;
    const token = await mesh.createToken('orders');
    await mesh.group.stop(cp.proc, 'SIGTERM', 10_000);
    app = await startEchoApp('orders');
    const adminPort = await findFreePort();
    const sidecar = await mesh.spawnSidecar({ service: 'orders', appPort: app.port, token, controlPlane: `127.0.0.1:${grpcPort}`, extraArgs: ['--admin-port', String(adminPort)] });
    await waitFor('the admin port to answer 503', async () => ((await httpRequest({ port: adminPort, path: '/ready' }).catch(() => undefined))?.status === 503 ? true : undefined), 15_000);

    let exited: { code: number | null; stderr: string } | undefined;
    const waiting = waitReady(adminPort, '60s').then((r) => (exited = r));
    await sleep(1_500);
    expect(exited, 'wait-ready returned while the sidecar was not ready').to.equal(undefined);
    expect((await httpRequest({ port: adminPort, path: '/ready' })).status).to.equal(503);

    await mesh.startControlPlane({ dataDir, grpcPort });
    await mesh.group.waitForLog(sidecar, (e) => e['msg'] === 'ready', 30_000);
    const result = await waiting;
    expect(result.code, result.stderr).to.equal(0);
    expect((await httpRequest({ port: adminPort, path: '/ready' })).status).to.equal(200);
    // Once ready, a wrapper started later passes straight through.
    expect((await waitReady(adminPort, '5s')).code).to.equal(0);
  });

  it('with no sidecar, gives up after --timeout with a non-zero exit and a message saying what to check', async () => {
    const port = await findFreePort();
    const result = await waitReady(port, '1s');
    expect(result.code).to.equal(1);
    expect(result.stderr).to.contain(`WEFT_ERR_NOT_READY: the sidecar on 127.0.0.1:${port} was not ready after 1s (last: connection refused)`);
  });

  it('refuses bad flags with exit code 2', async () => {
    const result = await runNode(programPath('sidecar'), ['wait-ready', '--timeout', 'soon'], { cwd: repoRoot() });
    expect(result.code).to.equal(2);
    expect(result.stderr).to.contain('--timeout must be a duration');
  });
});
