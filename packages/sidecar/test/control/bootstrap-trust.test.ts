import { expect } from 'chai';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { CertificateAuthority, certificateFingerprint, generateKeyPair } from '@weft/pki';
import { fetchTrustAnchor } from '../../src/control/bootstrap-trust';
import { ControlError, isTransient } from '../../src/control/errors';
import { FakeControlPlane } from './fake-control-plane';

async function rejection(p: Promise<unknown>): Promise<ControlError> {
  try {
    await p;
  } catch (err) {
    expect(err).to.be.instanceOf(ControlError);
    return err as ControlError;
  }
  throw new Error('expected a rejection');
}

describe('fetchTrustAnchor (first contact, pinned by the token)', function () {
  this.timeout(30_000);
  let cp: FakeControlPlane;
  const servers: net.Server[] = [];

  before(async () => {
    cp = await FakeControlPlane.start({ trustDomain: 'example.test' });
  });
  after(async () => {
    await cp?.stop();
    for (const s of servers) s.close();
  });

  it('pins the root whose fingerprint the token carries and learns the trust domain', async () => {
    const anchor = await fetchTrustAnchor({ host: '127.0.0.1', port: cp.port }, certificateFingerprint(cp.ca.rootPem));
    expect(certificateFingerprint(anchor.rootPem)).to.equal(certificateFingerprint(cp.ca.rootPem));
    expect(anchor.trustDomain).to.equal('example.test');
  });

  it('refuses a control plane whose root does not match, naming its address', async () => {
    const other = CertificateAuthority.createRoot('example.test');
    const err = await rejection(fetchTrustAnchor({ host: '127.0.0.1', port: cp.port }, certificateFingerprint(other.rootPem)));
    expect(err.code).to.equal('WEFT_ERR_CONTROL_PLANE_MISMATCH');
    expect(err.message).to.include(`the control plane at 127.0.0.1:${cp.port} is not the one the token was made for`);
    expect(isTransient(err)).to.equal(false);
  });

  it('refuses a server that shows the genuine (public) root next to a leaf of its own', async () => {
    const impostorCa = CertificateAuthority.createRoot('example.test');
    const keys = generateKeyPair();
    const leaf = impostorCa.issue({ publicKeyPem: keys.publicKeyPem, uris: ['spiffe://example.test/ns/weft-system/sa/weft-control-plane'], ttlMs: 60_000, usage: 'server' });
    const server = tls.createServer({ cert: leaf.certificatePem + cp.ca.rootPem, key: keys.privateKeyPem });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    const err = await rejection(fetchTrustAnchor({ host: '127.0.0.1', port }, certificateFingerprint(cp.ca.rootPem)));
    expect(err.code).to.equal('WEFT_ERR_CONTROL_PLANE_MISMATCH');
    // node only links certificates that issued one another, so the stray root is not even seen;
    // fetchTrustAnchor also verifies the chain itself in case it were.
    expect(err.message).to.include(`the control plane at 127.0.0.1:${port} is not the one the token was made for`);
  });

  it('refuses a server of the right CA that is not the control plane', async () => {
    const notCp = await FakeControlPlane.start({ ca: cp.ca, trustDomain: 'example.test', serverSpiffeId: 'spiffe://example.test/ns/default/sa/orders' });
    try {
      const err = await rejection(fetchTrustAnchor({ host: '127.0.0.1', port: notCp.port }, certificateFingerprint(cp.ca.rootPem)));
      expect(err.code).to.equal('WEFT_ERR_CONTROL_PLANE_MISMATCH');
      expect(err.message).to.include('is not a Weft control plane');
    } finally {
      await notCp.stop();
    }
  });

  it('reports an unreachable control plane as transient', async () => {
    const closed = net.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as net.AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const err = await rejection(fetchTrustAnchor({ host: '127.0.0.1', port }, certificateFingerprint(cp.ca.rootPem)));
    expect(err.code).to.equal('WEFT_ERR_CONTROL_PLANE_UNAVAILABLE');
    expect(err.message).to.include(`127.0.0.1:${port}`);
    expect(isTransient(err)).to.equal(true);
  });
});
