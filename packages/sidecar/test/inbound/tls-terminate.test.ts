import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { NoPeerIdentityError } from '../../src/layers/errors';
import { tlsTerminate } from '../../src/inbound/tls-terminate';
import { record, response } from '../layers/fakes';

describe('inbound/tls-terminate', () => {
  const socket = (san: string | undefined) => {
    let reads = 0;
    return { reads: () => reads, getPeerX509Certificate: () => (reads++, { subjectAltName: san, raw: Buffer.from('der') }) };
  };

  it('names the peer from the URI SAN, and its x-forwarded-client-cert, once per connection', async () => {
    const s = socket('URI:spiffe://weft.local/ns/shop/sa/frontend');
    const peers: string[] = [];
    const svc = tlsTerminate('spiffe://weft.local/ns/shop/sa/orders', async (req) => {
      peers.push(`${req.peer.spiffeId} ${req.peer.source} ${req.peer.forwardedClientCert}`);
      return response(200);
    });
    const rec = record();
    await svc({ socket: s, record: rec });
    await svc({ socket: s, record: record() });
    const hash = createHash('sha256').update('der').digest('hex');
    const xfcc = `By=spiffe://weft.local/ns/shop/sa/orders;Hash=${hash};URI=spiffe://weft.local/ns/shop/sa/frontend`;
    expect(peers).to.deep.equal(Array(2).fill(`spiffe://weft.local/ns/shop/sa/frontend frontend.shop ${xfcc}`));
    expect(rec.source).to.equal('frontend.shop');
    expect(s.reads()).to.equal(1);
  });

  it('refuses a certificate without exactly one SPIFFE ID', async () => {
    for (const san of [undefined, 'DNS:x', 'URI:spiffe://a/ns/b/sa/c, URI:spiffe://a/ns/b/sa/d']) {
      const err = await tlsTerminate('spiffe://weft.local/ns/shop/sa/orders', async () => response(200))({ socket: socket(san), record: record() }).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(NoPeerIdentityError);
      expect((err as NoPeerIdentityError).httpStatus).to.equal(403);
    }
  });
});
