import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { connect, type TLSSocket } from 'node:tls';
import { expect } from 'chai';
import { issueIdentity, TestMesh, type Caller, type Instance } from './mesh-fixture';

describe('scenario: certificate renewal', function () {
  this.timeout(20_000);
  let mesh: TestMesh;
  let frontend: Caller;
  let orders: Instance;
  const clientSerials: string[] = [];
  let probe: ReturnType<typeof createServer>;

  before(async () => {
    mesh = new TestMesh();
    orders = await mesh.addInstance('orders', (_req, res) => res.end('ok'));
    // A bare mTLS server standing in for a peer sidecar, recording which client certificate each connection used.
    const probeId = issueIdentity(mesh.ca, 'probe');
    probe = createServer(
      { cert: probeId.certificateChainPem.join(''), key: probeId.privateKeyPem, ca: [mesh.ca.rootPem], requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.3' },
      (req, res) => {
        clientSerials.push((req.socket as TLSSocket).getPeerX509Certificate()?.serialNumber ?? 'none');
        res.end('probe');
      },
    );
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    mesh.registerEndpoint('probe', `127.0.0.1:${(probe.address() as AddressInfo).port}`);
    frontend = await mesh.addCaller('frontend');
  });
  after(async () => {
    probe.closeAllConnections();
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    await mesh.close();
  });

  it('outbound: new connections use the renewed certificate; pooled ones are retired', async () => {
    expect((await frontend.send('/', { host: 'probe' })).status).to.equal(200);
    expect((await frontend.send('/', { host: 'probe' })).status).to.equal(200);
    expect(new Set(clientSerials).size).to.equal(1); // the pooled connection was reused
    frontend.identity.set(issueIdentity(mesh.ca, 'frontend'));
    expect((await frontend.send('/', { host: 'probe' })).status).to.equal(200);
    expect(new Set(clientSerials).size).to.equal(2);
    expect(clientSerials.at(-1)).to.not.equal(clientSerials[0]);
  });

  it('inbound: new handshakes get the renewed server certificate', async () => {
    const client = issueIdentity(mesh.ca, 'frontend');
    const serverSerial = (): Promise<string> =>
      new Promise((resolve, reject) => {
        const [host, port] = orders.address.split(':') as [string, string];
        const socket = connect({ host, port: Number(port), ca: [mesh.ca.rootPem], cert: client.certificateChainPem.join(''), key: client.privateKeyPem, checkServerIdentity: () => undefined });
        socket.on('secureConnect', () => {
          resolve(socket.getPeerX509Certificate()?.serialNumber ?? '');
          socket.end();
        });
        socket.on('error', reject);
      });
    const before = await serverSerial();
    const renewed = issueIdentity(mesh.ca, 'orders');
    orders.identity.set(renewed);
    const after = await serverSerial();
    expect(after).to.not.equal(before);
    // And the mesh path keeps working across the renewal.
    expect((await frontend.send('/', { host: 'orders' })).status).to.equal(200);
  });
});
