import { expect } from 'chai';
import { PeerIdentityError } from '../../src/layers/errors';
import { checkPeerIdentity } from '../../src/outbound/endpoint/tls-originate';

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
