import * as tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { CertificateAuthority } from '@weft/pki';
import type { Destination } from '../../src/config/types';
import { PeerIdentityError } from '../../src/layers/errors';
import { checkPeerIdentity, tlsClientOptions } from '../../src/outbound/endpoint/tls-originate';
import { issueIdentity, TRUST_DOMAIN } from '../scenarios/mesh-fixture';

describe('outbound/endpoint/tls-originate checkPeerIdentity', () => {
  const expected = 'spiffe://weft.local/ns/default/sa/orders';
  const table: [string, string | undefined, boolean][] = [
    ['the expected ID', `URI:${expected}`, true],
    ['the expected ID next to a DNS name', `DNS:orders.local, URI:${expected}`, true],
    ['another workload', 'URI:spiffe://weft.local/ns/default/sa/payments', false],
    ['another trust domain', 'URI:spiffe://evil.local/ns/default/sa/orders', false],
    ['two SPIFFE IDs', `URI:${expected}, URI:spiffe://weft.local/ns/default/sa/payments`, false],
    ['no SAN at all', undefined, false],
  ];
  for (const [what, san, accepted] of table) {
    it(what, () => {
      const result = checkPeerIdentity(san, expected, '10.0.0.1:15006');
      if (accepted) expect(result).to.equal(undefined);
      else {
        expect(result).to.be.instanceOf(PeerIdentityError);
        expect(result?.code).to.equal('WEFT_ERR_PEER_IDENTITY');
        expect(result?.message).to.contain(expected).and.contain('10.0.0.1:15006');
      }
    });
  }
});

describe('outbound/endpoint/tls-originate tlsClientOptions', function () {
  this.timeout(20_000);
  const ca = CertificateAuthority.createRoot(TRUST_DOMAIN);
  const caller = issueIdentity(ca, 'frontend');
  const server = issueIdentity(ca, 'api');
  const destination = (minTLSVersion?: 'TLSv1.2' | 'TLSv1.3'): Destination => ({ key: 'api.default', service: 'api', namespace: 'default', spiffeId: server.spiffeId, minTLSVersion });

  it('gives every connection of one identity the same TLS context, and a renewed identity a new one', () => {
    const a = tlsClientOptions(caller, destination(), '127.0.0.1:1').secureContext;
    expect(a).to.have.property('context'); // a tls.SecureContext, not options to build one per connection
    expect(tlsClientOptions(caller, destination(), '127.0.0.1:2').secureContext).to.equal(a);
    expect(tlsClientOptions({ ...caller }, destination(), '127.0.0.1:1').secureContext).to.not.equal(a);
    expect(tlsClientOptions(caller, destination('TLSv1.2'), '127.0.0.1:1').secureContext).to.not.equal(a);
  });

  /** Handshakes with a server that speaks at most `serverMax`, using the options for `minTLSVersion`. */
  async function handshake(serverMax: 'TLSv1.2' | 'TLSv1.3', minTLSVersion?: 'TLSv1.2' | 'TLSv1.3'): Promise<string> {
    const srv = tls.createServer({ cert: server.certificateChainPem.join(''), key: server.privateKeyPem, ca: [...server.trustBundlePem], requestCert: true, maxVersion: serverMax }, (s) => s.end());
    srv.on('tlsClientError', () => undefined);
    await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = srv.address() as AddressInfo;
      return await new Promise<string>((resolve) => {
        const socket = tls.connect({ ...tlsClientOptions(caller, destination(minTLSVersion), `127.0.0.1:${port}`), host: '127.0.0.1', port });
        socket.once('secureConnect', () => {
          resolve(`${socket.getProtocol() ?? 'unknown'} as ${socket.getCertificate() ? 'a client with a certificate' : 'no certificate'}`);
          socket.destroy();
        });
        socket.once('error', (err: NodeJS.ErrnoException) => resolve(`refused: ${err.code ?? err.message}`));
      });
    } finally {
      await new Promise((resolve) => srv.close(resolve));
    }
  }

  it('presents the workload certificate and keeps the lowest TLS version in the shared context', async () => {
    expect(await handshake('TLSv1.3')).to.equal('TLSv1.3 as a client with a certificate');
    expect(await handshake('TLSv1.2')).to.match(/^refused/);
    expect(await handshake('TLSv1.2', 'TLSv1.2')).to.equal('TLSv1.2 as a client with a certificate');
  });
});
