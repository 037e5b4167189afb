import { expect } from 'chai';
import { isLoopback, refusal } from '../../src/admin/page-access';

describe('admin page access: /config for loopback callers only', () => {
  const cases: [string | undefined, boolean][] = [
    ['127.0.0.1', true],
    ['127.0.0.2', true],
    ['127.255.0.9', true],
    ['::1', true],
    ['::ffff:127.0.0.1', true],
    ['10.0.0.2', false],
    ['192.168.1.20', false],
    ['::ffff:10.0.0.2', false],
    ['fe80::1', false],
    ['fd00::1', false],
    ['', false],
    [undefined, false],
  ];
  for (const [address, loopback] of cases) {
    it(`${JSON.stringify(address)} is ${loopback ? '' : 'not '}loopback`, () => {
      expect(isLoopback(address)).to.equal(loopback);
    });
  }

  it('refuses a loopback-only page to a remote caller, saying why and what to do instead', () => {
    const why = refusal('/config', 'loopback', '10.0.0.2', false);
    expect(why).to.include("/config answers only callers on this host's loopback");
    expect(why).to.include('this request came from 10.0.0.2');
    expect(why).to.include('--admin-remote-config');
  });

  it('serves it on loopback, serves it to everyone with --admin-remote-config, and serves probe pages to everyone', () => {
    expect(refusal('/config', 'loopback', '127.0.0.1', false)).to.equal(undefined);
    expect(refusal('/config', 'loopback', '10.0.0.2', true)).to.equal(undefined);
    expect(refusal('/ready', 'anyone', '10.0.0.2', false)).to.equal(undefined);
  });
});
