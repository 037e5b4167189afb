import { expect } from 'chai';
import { detectInbound, inboundAlpn, type InboundConnection, type MtlsMode } from '../../src/inbound/protocol-detect';
import type { AppProtocol } from '../../src/inbound/local-app';
import { H2_PREFACE, httpProtocolOf } from '../../src/listen/sniff';

describe('telling protocols apart by their first bytes', () => {
  describe('httpProtocolOf (the outbound port: HTTP/1.1 or h2c)', () => {
    const cases: [string, Buffer, 'http1' | 'h2' | undefined][] = [
      ['a request line', Buffer.from('GET / HTTP/1.1\r\n'), 'http1'],
      ['a method that starts like the preface', Buffer.from('POST / HTTP/1.1\r\n'), 'http1'],
      ['one byte of the preface: wait', Buffer.from('P'), undefined],
      ['most of the preface: wait', H2_PREFACE.subarray(0, 20), undefined],
      ['the whole preface', H2_PREFACE, 'h2'],
      ['the preface and a SETTINGS frame', Buffer.concat([H2_PREFACE, Buffer.alloc(9)]), 'h2'],
    ];
    for (const [what, head, expected] of cases) it(`${what} -> ${expected}`, () => expect(httpProtocolOf(head)).to.equal(expected));
  });

  describe('detectInbound (the inbound port)', () => {
    const tls = Buffer.from([0x16, 0x03, 0x01]);
    const get = Buffer.from('GET / HTTP/1.1\r\n');
    const cases: [string, Buffer, MtlsMode, AppProtocol, InboundConnection | undefined][] = [
      ['a TLS ClientHello, STRICT', tls, 'STRICT', 'http1', 'tls'],
      ['a TLS ClientHello, PERMISSIVE, TCP app', tls, 'PERMISSIVE', 'tcp', 'tls'],
      ['plaintext HTTP, STRICT', get, 'STRICT', 'http1', 'refused'],
      ['plaintext bytes, STRICT, TCP app', Buffer.from('hello'), 'STRICT', 'tcp', 'refused'],
      ['plaintext HTTP/1.1, PERMISSIVE', get, 'PERMISSIVE', 'http1', 'http1'],
      ['plaintext h2c, PERMISSIVE, h2c app', H2_PREFACE, 'PERMISSIVE', 'h2c', 'h2'],
      ['half an h2c preface, PERMISSIVE: wait', H2_PREFACE.subarray(0, 3), 'PERMISSIVE', 'h2c', undefined],
      ['plaintext bytes, PERMISSIVE, TCP app', Buffer.from('hello'), 'PERMISSIVE', 'tcp', 'tcp'],
    ];
    for (const [what, head, mode, app, expected] of cases) it(`${what} -> ${expected}`, () => expect(detectInbound(head, mode, app)).to.equal(expected));
  });

  it('offers ALPN weft-tcp only for a TCP app, and h2/http1.1 only for HTTP apps', () => {
    expect(inboundAlpn('tcp')).to.deep.equal(['weft-tcp']);
    expect(inboundAlpn('http1')).to.deep.equal(['h2', 'http/1.1']);
    expect(inboundAlpn('h2c')).to.deep.equal(['h2', 'http/1.1']);
  });
});
