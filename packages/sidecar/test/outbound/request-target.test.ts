import { expect } from 'chai';
import { BadRequestError } from '../../src/layers/errors';
import { parseRequestTarget, type RequestTarget } from '../../src/outbound/request-target';

describe('outbound/request-target', () => {
  const ok: [string, string | undefined, RequestTarget][] = [
    ['/items?x=1', 'orders', { authority: 'orders', host: 'orders', target: '/items?x=1', path: '/items' }],
    ['/', 'Orders.Shop:8080', { authority: 'orders.shop', host: 'orders.shop:8080', target: '/', path: '/' }],
    ['/a', 'orders.shop.svc.cluster.local.', { authority: 'orders.shop.svc.cluster.local', host: 'orders.shop.svc.cluster.local.', target: '/a', path: '/a' }],
    ['/a#frag', 'orders', { authority: 'orders', host: 'orders', target: '/a', path: '/a' }],
    ['http://orders/items?x=1', 'ignored', { authority: 'orders', host: 'orders', target: '/items?x=1', path: '/items' }],
    ['http://orders:80', undefined, { authority: 'orders', host: 'orders:80', target: '/', path: '/' }],
    ['HTTP://orders.shop?q', undefined, { authority: 'orders.shop', host: 'orders.shop', target: '/?q', path: '/' }],
    ['/x', '[::1]:15001', { authority: '[::1]', host: '[::1]:15001', target: '/x', path: '/x' }],
  ];
  for (const [url, host, expected] of ok) {
    it(`${url} with Host ${host ?? '(none)'}`, () => expect(parseRequestTarget(url, host)).to.deep.equal(expected));
  }

  const bad: [string | undefined, string | undefined, RegExp][] = [
    ['/x', undefined, /no Host header/],
    ['/x', '', /no Host header/],
    ['https://orders/', undefined, /https:\/\/ through the sidecar is not supported/],
    ['ftp://orders/', undefined, /unsupported request target/],
    ['*', 'orders', /unsupported request target/],
    ['/x', 'bad host', /invalid host/],
    ['http://user:pw@orders/', undefined, /credentials/],
    [undefined, 'orders', /no target/],
  ];
  for (const [url, host, message] of bad) {
    it(`rejects ${url ?? '(no url)'} with Host ${host ?? '(none)'}`, () => {
      expect(() => parseRequestTarget(url, host)).to.throw(BadRequestError, message).with.property('httpStatus', 400);
    });
  }

  it('answers a Host header it has seen before the same way, and refuses a bad one every time', () => {
    for (let i = 0; i < 3; i++) {
      expect(parseRequestTarget(`/p${i}?q`, 'Orders.Shop:8080')).to.deep.equal({ authority: 'orders.shop', host: 'orders.shop:8080', target: `/p${i}?q`, path: `/p${i}` });
      expect(() => parseRequestTarget('/x', 'bad host')).to.throw(BadRequestError, /invalid host/);
    }
  });

  it('keeps answering right past the bound of Host headers it remembers', () => {
    for (let i = 0; i < 1100; i++) expect(parseRequestTarget('/', `svc${i}:80`).authority).to.equal(`svc${i}`);
    expect(parseRequestTarget('/', 'svc0:80')).to.deep.equal({ authority: 'svc0', host: 'svc0:80', target: '/', path: '/' });
  });
});
