import { connect } from 'node:tls';
import { HEADERS } from '@weft/api';
import { CertificateAuthority } from '@weft/pki';
import { expect } from 'chai';
import { issueIdentity, TestMesh, type Caller, type Instance } from './mesh-fixture';

describe('scenario: peer identity over mTLS', function () {
  this.timeout(20_000);
  let mesh: TestMesh;
  let orders: Instance;
  let frontend: Caller;
  const seen: Record<string, string | string[] | undefined>[] = [];

  before(async () => {
    mesh = new TestMesh();
    orders = await mesh.addInstance('orders', (req, res) => {
      seen.push(req.headers);
      res.end('orders ok');
    });
    frontend = await mesh.addCaller('frontend');
  });
  after(() => mesh.close());

  it('delivers the caller SPIFFE ID in x-weft-peer-identity and replaces a spoofed one', async () => {
    const res = await frontend.send('/items', { host: 'orders', headers: { [HEADERS.peerIdentity]: 'spiffe://weft.local/ns/default/sa/admin' } });
    expect(res.status).to.equal(200);
    expect(res.text()).to.equal('orders ok');
    const headers = seen.at(-1);
    expect(headers?.[HEADERS.peerIdentity]).to.equal(frontend.self.spiffeId);
    expect(headers?.['traceparent']).to.match(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
  });

  it('accepts every form of the destination name, and http_proxy requests', async () => {
    for (const host of ['orders', 'orders.default', 'orders.default.svc', 'orders.default.svc.cluster.local:8080', 'ORDERS.default.svc.cluster.local.']) {
      const res = await frontend.send('/x', { host });
      expect(res.status, host).to.equal(200);
    }
    const proxied = await frontend.send('http://orders.default/x?y=1');
    expect(proxied.status).to.equal(200);
    expect(seen.at(-1)?.['host']).to.equal('orders.default');
  });

  it('gives a TLS client without a mesh certificate no response', async () => {
    const [host, port] = orders.address.split(':') as [string, string];
    const outcome = await new Promise<string>((resolve) => {
      const socket = connect({ host, port: Number(port), ca: [mesh.ca.rootPem], checkServerIdentity: () => undefined });
      let data = '';
      socket.on('secureConnect', () => socket.write('GET / HTTP/1.1\r\nhost: orders\r\n\r\n'));
      socket.on('data', (d: Buffer) => (data += d.toString()));
      socket.on('error', (err) => resolve(`error: ${err.message}`));
      socket.on('close', () => resolve(data === '' ? 'closed without data' : `data: ${data}`));
    });
    expect(outcome).to.not.match(/^data:/);
  });

  it('gives a client with a certificate from another CA no response', async () => {
    const other = CertificateAuthority.createRoot('weft.local');
    const stranger = issueIdentity(other, 'frontend');
    const [host, port] = orders.address.split(':') as [string, string];
    const outcome = await new Promise<string>((resolve) => {
      const socket = connect({
        host,
        port: Number(port),
        ca: [mesh.ca.rootPem],
        cert: stranger.certificateChainPem.join(''),
        key: stranger.privateKeyPem,
        checkServerIdentity: () => undefined,
      });
      let data = '';
      socket.on('secureConnect', () => socket.write('GET / HTTP/1.1\r\nhost: orders\r\n\r\n'));
      socket.on('data', (d: Buffer) => (data += d.toString()));
      socket.on('error', (err) => resolve(`error: ${err.message}`));
      socket.on('close', () => resolve(data === '' ? 'closed without data' : `data: ${data}`));
    });
    expect(outcome).to.not.match(/^data:/);
  });

  it('refuses a peer whose certificate carries another SPIFFE ID', async () => {
    let reached = 0;
    // An instance registered as "payments" but presenting the identity of "intruder".
    await mesh.addInstance('payments', (_req, res) => {
      reached += 1;
      res.end('should not be reached');
    }, { identity: issueIdentity(mesh.ca, 'intruder') });
    mesh.push();
    const res = await frontend.send('/', { host: 'payments' });
    expect(res.status).to.equal(503);
    expect(res.headers[HEADERS.error]).to.equal('WEFT_ERR_PEER_IDENTITY');
    expect(res.text()).to.contain('spiffe://weft.local/ns/default/sa/intruder');
    expect(res.text()).to.contain('spiffe://weft.local/ns/default/sa/payments');
    expect(reached).to.equal(0);
  });

  it('answers an unknown service with 503 and a body that says what to check', async () => {
    const res = await frontend.send('/', { host: 'orderz' });
    expect(res.status).to.equal(503);
    expect(res.headers[HEADERS.error]).to.equal('WEFT_ERR_NO_ENDPOINTS');
    expect(res.text()).to.equal(
      'service "orderz" has no endpoints in the mesh: check that it runs a Weft sidecar and is spelled as registered (weftctl get services); ' +
        'a service whose ALLOW AuthorizationPolicies do not name this caller is not sent to it (weftctl auth check --to orderz)\n',
    );
  });
});
