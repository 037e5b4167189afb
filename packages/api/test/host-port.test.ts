import { expect } from 'chai';
import { formatHostPort, parseHostPort, type ParseHostPortOptions } from '../src';

describe('host:port', () => {
  const cases: readonly [string, ParseHostPortOptions, { host: string; port: number } | undefined][] = [
    ['127.0.0.1:15006', {}, { host: '127.0.0.1', port: 15006 }],
    [' cp.example.com:15012 ', {}, { host: 'cp.example.com', port: 15012 }],
    ['[::1]:8080', {}, { host: '::1', port: 8080 }],
    [':15012', {}, undefined],
    [':15012', { allowAnyHost: true }, { host: '', port: 15012 }],
    ['127.0.0.1:0', {}, undefined],
    ['127.0.0.1:0', { allowPortZero: true }, { host: '127.0.0.1', port: 0 }],
    ['127.0.0.1:65536', {}, undefined],
    ['127.0.0.1', {}, undefined],
    ['::1:8080', {}, undefined],
    ['[cp.example.com]:80', {}, undefined],
    ['-bad-.example:80', {}, undefined],
  ];
  for (const [text, options, expected] of cases) {
    it(`${JSON.stringify(text)} ${JSON.stringify(options)} -> ${JSON.stringify(expected)}`, () => {
      expect(parseHostPort(text, options)).to.deep.equal(expected);
    });
  }

  it('formats IPv6 in brackets, and the every-interface host as :PORT', () => {
    expect([formatHostPort({ host: '::1', port: 1 }), formatHostPort({ host: '10.0.0.1', port: 2 }), formatHostPort({ host: '', port: 3 })]).to.deep.equal(['[::1]:1', '10.0.0.1:2', ':3']);
  });
});
