import { connect, type TLSSocket } from 'node:tls';
import { expect } from 'chai';
import type { IdentityMaterial } from '../../src/control/identity-material';
import { delay, issueIdentity, TestMesh, type Instance } from './mesh-fixture';

/**
 * TLS session resumption at a real inbound sidecar. Sidecars resume sessions between them
 * (outbound/endpoint/peer-connector.ts); a resumed session is not verified again, so the inbound
 * side must not let one outlive the client certificate it was proven with, nor the trust it was
 * proven under.
 */
describe('scenario: TLS session resumption at the inbound listener', function () {
  this.timeout(20_000);
  let mesh: TestMesh;
  let orders: Instance;

  before(async () => {
    mesh = new TestMesh();
    orders = await mesh.addInstance('orders', (_req, res) => res.end('orders ok'));
  });
  after(() => mesh.close());

  interface Outcome {
    readonly resumed: boolean;
    readonly answer: string;
    readonly session: Buffer | undefined;
  }

  /** One HTTP/1.1 request on a connection of its own, as a mesh client holding `material`, offering `session`. */
  function exchange(material: IdentityMaterial, session?: Buffer): Promise<Outcome> {
    const [host, port] = orders.address.split(':') as [string, string];
    return new Promise((resolve) => {
      let resumed = false;
      let answer = '';
      let issued: Buffer | undefined;
      const socket: TLSSocket = connect({
        host,
        port: Number(port),
        cert: material.certificateChainPem.join(''),
        key: material.privateKeyPem,
        ca: [...material.trustBundlePem],
        servername: 'orders.default.svc',
        ALPNProtocols: ['http/1.1'],
        minVersion: 'TLSv1.3',
        checkServerIdentity: () => undefined, // the server's identity is not what these tests are about
        ...(session ? { session } : {}),
      });
      socket.on('session', (s: Buffer) => (issued = s));
      socket.on('secureConnect', () => {
        resumed = socket.isSessionReused();
        socket.write('GET / HTTP/1.1\r\nhost: orders\r\nconnection: close\r\n\r\n');
      });
      socket.on('data', (d: Buffer) => (answer += d.toString()));
      socket.on('error', () => undefined);
      socket.on('close', () => resolve({ resumed, answer, session: issued }));
    });
  }

  it('resumes a mesh client\'s session and serves it', async () => {
    const client = issueIdentity(mesh.ca, 'frontend');
    const first = await exchange(client);
    expect([first.resumed, first.answer.endsWith('orders ok')]).to.deep.equal([false, true]);
    const second = await exchange(client, first.session);
    expect([second.resumed, second.answer.endsWith('orders ok')]).to.deep.equal([true, true]);
  });

  it('serves no resumed session whose client certificate has expired since', async () => {
    const client = issueIdentity(mesh.ca, 'frontend', 'default', 1000);
    const first = await exchange(client);
    expect(first.answer.endsWith('orders ok')).to.equal(true);
    await delay(2100);
    const second = await exchange(client, first.session);
    expect(second.answer, 'closed without an answer').to.equal('');
  });

  it('resumes no session from before its certificate renewed', async () => {
    const client = issueIdentity(mesh.ca, 'frontend');
    const first = await exchange(client);
    orders.identity.set(issueIdentity(mesh.ca, 'orders'));
    const second = await exchange(client, first.session);
    expect([second.resumed, second.answer.endsWith('orders ok')]).to.deep.equal([false, true]);
  });
});
