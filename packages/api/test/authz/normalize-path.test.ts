import { expect } from 'chai';
import { normalizePath } from '../../src';

describe('authz: normalizePath', () => {
  const NORMALIZED: readonly (readonly [string, string])[] = [
    ['/', '/'],
    ['/orders', '/orders'],
    ['/orders/', '/orders/'],
    ['/.well-known/x', '/.well-known/x'],
    ['/a/...', '/a/...'],
    ['/a/./b', '/a/b'],
    ['/a/../b', '/b'],
    ['/a/b/..', '/a/'],
    ['/a/.', '/a/'],
    ['/../../etc', '/etc'],
    ['//admin', '/admin'],
    ['/a//b///c', '/a/b/c'],
    ['/%61dmin', '/admin'],
    ['/%2e%2e/admin', '/admin'],
    ['/a%2E/b', '/a./b'],
    ['/caf%c3%a9', '/caf%C3%A9'],
    ['/a%20b', '/a%20b'],
    ['/%7Euser', '/~user'],
  ];
  for (const [raw, expected] of NORMALIZED) {
    it(`${raw} -> ${expected}`, () => expect(normalizePath(raw)).to.deep.equal({ ok: true, path: expected }));
  }

  const REFUSED: readonly (readonly [string, RegExp])[] = [
    ['/a%2Fb', /encodes "\/"/],
    ['/a%2fb', /encodes "\/"/],
    ['/a%5Cb', /encodes "\\"/],
    ['/a\\b', /backslash/],
    ['/a#/../b', /"#"/],
    ['/a%zzb', /malformed escape "%zz"/],
    ['/a%2', /malformed escape/],
    ['orders', /does not start with/],
    ['*', /does not start with/],
  ];
  for (const [raw, problem] of REFUSED) {
    it(`refuses ${raw}`, () => {
      const result = normalizePath(raw);
      expect(result.ok).to.equal(false);
      if (!result.ok) expect(result.problem).to.match(problem);
    });
  }

  it('returns an already-normal path as the same string', () => {
    const raw = '/api/v1/orders/42';
    const result = normalizePath(raw);
    expect(result.ok && result.path).to.equal(raw);
  });
});
