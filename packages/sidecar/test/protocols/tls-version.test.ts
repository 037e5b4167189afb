import * as tls from 'node:tls';
import { expect } from 'chai';
import { issueIdentity, TestMesh, type Caller, type Instance } from '../scenarios/mesh-fixture';

/** Handshakes with the inbound port as a mesh workload limited to one TLS version. */
function handshake(port: number, mesh: TestMesh, version: 'TLSv1.2' | 'TLSv1.3'): Promise<string> {
  const id = issueIdentity(mesh.ca, 'frontend');
  return new Promise((resolve) => {
    const socket = tls.connect({
      host: '127.0.0.1',
      port,
      cert: id.certificateChainPem.join(''),
      key: id.privateKeyPem,
      ca: [...id.trustBundlePem],
      minVersion: version,
      maxVersion: version,
      checkServerIdentity: () => undefined,
    });
    socket.once('secureConnect', () => {
      const protocol = socket.getProtocol() ?? 'unknown';
      socket.destroy();
      resolve(protocol);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(`refused: ${err.code ?? err.message}`));
  });
}

describe('protocols: the lowest TLS version between sidecars', function () {
  this.timeout(20_000);
  let mesh: TestMesh;
  let api: Instance;
  let caller: Caller;

  before(async () => {
    mesh = new TestMesh();
    api = await mesh.addInstance('api', (_req, res) => res.end('ok'));
    caller = await mesh.addCaller('frontend');
    mesh.push();
  });
  after(() => mesh?.close());

  it('is TLS 1.3 by default: a mesh workload limited to TLS 1.2 is refused', async () => {
    expect(await handshake(api.inbound.port, mesh, 'TLSv1.3')).to.equal('TLSv1.3');
    expect(await handshake(api.inbound.port, mesh, 'TLSv1.2')).to.match(/^refused/);
  });

  it('accepts TLS 1.2 once MeshConfig minTLSVersion allows it, without a restart, and goes back', async () => {
    mesh.setMeshConfig({ minTLSVersion: 'TLSv1.2' });
    mesh.push();
    expect(await handshake(api.inbound.port, mesh, 'TLSv1.2')).to.equal('TLSv1.2');
    // Sidecars still prefer TLS 1.3 with each other.
    expect((await caller.send('/', { host: 'api' })).status).to.equal(200);
    mesh.setMeshConfig({});
    mesh.push();
    expect(await handshake(api.inbound.port, mesh, 'TLSv1.2')).to.match(/^refused/);
  });
});
