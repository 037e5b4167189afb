import { X509Certificate } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import * as tls from 'node:tls';
import { expect } from 'chai';
import { CertificateAuthority } from '@weft/pki';
import type { Destination } from '../../src/config/types';
import type { IdentityMaterial } from '../../src/control/identity-material';
import { PeerIdentityError } from '../../src/layers/errors';
import { peerConnector, PeerSessions } from '../../src/outbound/endpoint/peer-connector';
import { delay, issueIdentity, TRUST_DOMAIN } from '../scenarios/mesh-fixture';

/**
 * TLS session resumption to a peer sidecar (outbound/endpoint/peer-connector.ts), against a real
 * TLS 1.3 server that requires client certificates, as the inbound listener does. Node skips
 * `checkServerIdentity` on a resumed session: the connector must check the peer itself.
 */
describe('outbound/endpoint/peer-connector', function () {
  this.timeout(20_000);
  const ca = CertificateAuthority.createRoot(TRUST_DOMAIN);
  const caller = issueIdentity(ca, 'frontend');
  const api = issueIdentity(ca, 'api');
  const destination = (service: string): Destination => ({ key: `${service}.default`, service, namespace: 'default', spiffeId: issueIdentity(ca, service).spiffeId });
  let server: tls.Server;
  let port: number;
  /** Each handshake the server completed: resumed or full. */
  let handshakes: ('resumed' | 'full')[];

  before(async () => {
    server = tls.createServer({ cert: api.certificateChainPem.join(''), key: api.privateKeyPem, ca: [...api.trustBundlePem], requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.3' }, (s) => {
      handshakes.push(s.isSessionReused() ? 'resumed' : 'full');
      s.on('error', () => undefined);
      s.end('ok'); // a TLS 1.3 server sends its session tickets with the first data it writes
    });
    server.on('tlsClientError', () => undefined);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  beforeEach(() => (handshakes = []));
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  /** Connects as `material` expecting `service` at the server; resolves with the connected socket or the refusal. */
  function connect(sessions: PeerSessions, service: string, material: IdentityMaterial = caller): Promise<tls.TLSSocket | Error> {
    const connector = peerConnector(material, destination(service), `127.0.0.1:${port}`, 5000, sessions);
    return new Promise((resolve) => {
      connector((err, socket) => {
        if (err) resolve(err);
        else {
          // Read, as the pool does: the session tickets come after the handshake, with the data.
          (socket as tls.TLSSocket).on('error', () => undefined).resume();
          resolve(socket as tls.TLSSocket);
        }
      });
    });
  }

  /** Resolves once the server has closed the connection (it answers and ends every one). */
  function closed(socket: tls.TLSSocket): Promise<unknown> {
    return socket.closed ? Promise.resolve() : new Promise((resolve) => socket.once('close', resolve));
  }

  /** Connects once with a full handshake, and returns once the server closed it (its session tickets are in by then). */
  async function firstSession(sessions: PeerSessions): Promise<void> {
    const first = await connect(sessions, 'api');
    expect(first).to.be.instanceOf(tls.TLSSocket);
    expect((first as tls.TLSSocket).isSessionReused()).to.equal(false);
    await closed(first as tls.TLSSocket);
    expect(sessions.latest, 'a session ticket').to.not.equal(undefined);
  }

  it('resumes the session of an earlier connection to the same peer', async () => {
    const sessions = new PeerSessions();
    await firstSession(sessions);
    const second = await connect(sessions, 'api');
    expect(second).to.be.instanceOf(tls.TLSSocket);
    expect((second as tls.TLSSocket).isSessionReused(), 'resumed').to.equal(true);
    await closed(second as tls.TLSSocket);
    expect(handshakes).to.deep.equal(['full', 'resumed']);
  });

  it('refuses a resumed session whose peer is not the expected identity', async () => {
    const sessions = new PeerSessions();
    await firstSession(sessions);
    // The same session offered where another workload is expected: TLS resumes it and Node's
    // client checks nothing on a resumed session (without the connector's own check this
    // connection is accepted), then the full handshake tried instead fails checkServerIdentity.
    const wrong = await connect(sessions, 'payments');
    if (wrong instanceof tls.TLSSocket) wrong.destroy();
    expect(wrong).to.be.instanceOf(PeerIdentityError);
    expect((wrong as Error).message).to.contain('spiffe://weft.local/ns/default/sa/payments');
    expect(sessions.latest, 'the session that failed the check is dropped').to.equal(undefined);
  });

  it('does not resume once the certificate proven for the session has expired: a full handshake instead', async () => {
    const sessions = new PeerSessions();
    await firstSession(sessions);
    const shortLived = issueIdentity(ca, 'api', 'default', 1000);
    await delay(2100);
    // The session as it is, with the certificate it was proven by replaced by one that expired.
    sessions.latest = { session: (sessions.latest as { session: Buffer }).session, peer: new X509Certificate(shortLived.certificateChainPem[0] as string) };
    const again = await connect(sessions, 'api');
    expect(again).to.be.instanceOf(tls.TLSSocket);
    expect((again as tls.TLSSocket).isSessionReused(), 'a full handshake').to.equal(false);
    await closed(again as tls.TLSSocket);
    // (the resumed attempt before it was closed by the connector as soon as it completed)
    expect(handshakes.at(-1)).to.equal('full');
  });
});
