import { expect } from 'chai';
import { X509Certificate } from 'node:crypto';
import { CertificateAuthority, certificateInfo, checkControlPlaneIdentity, generateKeyPair, parseSubjectAltName, sanValues, spiffeIdsIn } from '../src';

describe('SAN parsing', function () {
  this.timeout(20_000);

  it('spiffeIdsIn reads URI SANs as Node renders them', () => {
    expect(spiffeIdsIn('URI:spiffe://weft.local/ns/a/sa/b, DNS:x.example')).to.deep.equal(['spiffe://weft.local/ns/a/sa/b']);
    expect(spiffeIdsIn('URI:"spiffe://weft.local/ns/a/sa/b"')).to.deep.equal(['spiffe://weft.local/ns/a/sa/b']);
    expect(spiffeIdsIn('DNS:x.example, URI:https://not-spiffe')).to.deep.equal([]);
    expect(spiffeIdsIn(undefined)).to.deep.equal([]);
  });

  it('splits outside quotes and unquotes what Node quotes', () => {
    const text = 'DNS:a.example, URI:"spiffe://weft.local/ns/a/sa/b,c", IP Address:127.0.0.1, URI:"https://x/\\"q\\"", DNS:b.example';
    expect(parseSubjectAltName(text)).to.deep.equal({
      uris: ['spiffe://weft.local/ns/a/sa/b,c', 'https://x/"q"'],
      dnsNames: ['a.example', 'b.example'],
      ipAddresses: ['127.0.0.1'],
    });
    expect(sanValues(text, 'URI:')).to.deep.equal(['spiffe://weft.local/ns/a/sa/b,c', 'https://x/"q"']);
  });

  it('reads a real certificate whose URI SAN Node quotes (it holds a comma)', () => {
    const ca = CertificateAuthority.createRoot('weft.local');
    const odd = 'spiffe://weft.local/ns/a/sa/b,c';
    const issued = ca.issue({ publicKeyPem: generateKeyPair().publicKeyPem, ttlMs: 3_600_000, usage: 'workload', uris: [odd, 'spiffe://weft.local/ns/a/sa/d'] });
    const rendered = new X509Certificate(issued.certificatePem).subjectAltName ?? '';
    expect(rendered).to.match(/^URI:"spiffe:\/\/weft\.local\/ns\/a\/sa\/b\\u002c/); // quoted and escaped: what the unquoting is for
    expect(certificateInfo(issued.certificatePem).uris).to.deep.equal([odd, 'spiffe://weft.local/ns/a/sa/d']);
    expect(spiffeIdsIn(rendered)).to.deep.equal([odd, 'spiffe://weft.local/ns/a/sa/d']);
  });

  it('checkControlPlaneIdentity accepts only the expected SPIFFE ID and says what it saw', () => {
    const check = checkControlPlaneIdentity('spiffe://weft.local/ns/weft-system/sa/weft-control-plane');
    expect(check('x', { subjectaltname: 'DNS:localhost, URI:spiffe://weft.local/ns/weft-system/sa/weft-control-plane' })).to.equal(undefined);
    expect(check('x', { subjectaltname: 'URI:spiffe://weft.local/ns/default/sa/impostor' })?.message).to.equal(
      "the server's certificate is for spiffe://weft.local/ns/default/sa/impostor, not for the control plane (spiffe://weft.local/ns/weft-system/sa/weft-control-plane)",
    );
    expect(check('x', {})?.message).to.contain('is for no SPIFFE ID');
  });
});
