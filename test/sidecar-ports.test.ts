import { expect } from 'chai';
import { findFreePort, Mesh, type Sidecar } from '@weft/harness';

describe('a second sidecar on the same host: a port already taken names the listener and the flag that moves it', function () {
  this.timeout(60_000);
  const mesh = new Mesh();
  let first: Sidecar;
  let tcpPort: number;

  before(async () => {
    const cp = await mesh.startControlPlane();
    tcpPort = await findFreePort();
    first = await mesh.startSidecar({ service: 'orders', appPort: 1, token: await mesh.createToken('orders'), controlPlane: cp.endpoint, extraArgs: ['--tcp-forward', `${tcpPort}=db`] });
  });
  after(() => mesh.close());

  it('exits 1 saying which listener could not bind where, and which flag chooses another port', async () => {
    // The second sidecar gets port 0 (any free port) everywhere but one listener, which clashes with the first's.
    const cases: [string, string[], RegExp][] = [
      ['admin', ['--admin-port', String(first.adminPort)], new RegExp(`the admin listener cannot bind 127\\.0\\.0\\.1:${first.adminPort}: address already in use\\. Another sidecar .* choose another port with --admin-port`)],
      ['outbound', ['--outbound-port', String(first.outboundPort)], new RegExp(`the outbound listener cannot bind 127\\.0\\.0\\.1:${first.outboundPort}: address already in use\\. .* with --outbound-port`)],
      ['inbound', ['--inbound-port', String(first.inboundPort)], new RegExp(`the inbound listener cannot bind 127\\.0\\.0\\.1:${first.inboundPort}: address already in use\\. .* with --inbound-port`)],
      ['tcp-forward', ['--tcp-forward', `${tcpPort}=db`], new RegExp(`the tcp-forward listener cannot bind 127\\.0\\.0\\.1:${tcpPort}: address already in use\\. .* with the LOCALPORT of --tcp-forward`)],
    ];
    const runs = await Promise.all(
      cases.map(async ([, args]) =>
        mesh.runSidecarToExit({ service: 'orders', appPort: 1, token: await mesh.createToken('orders'), controlPlane: mesh.controlPlane.endpoint, extraArgs: args }),
      ),
    );
    cases.forEach(([listener, , message], i) => {
      const run = runs[i]!;
      const line = run.stderr.split('\n').find((l) => l.includes('cannot start')) ?? `(no "cannot start" line) ${run.stderr}`;
      expect(run.code, `${listener}: ${line}`).to.equal(1);
      expect(line, listener).to.match(message);
      expect(line, listener).to.include('"code":"WEFT_ERR_LISTEN"');
    });
  });
});
