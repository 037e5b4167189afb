import { expect } from 'chai';
import {
  AttemptTimeoutError, BadRequestError, ClientClosedError, ConnectError, DeadlineExceededError, InternalError, NoEndpointsError,
  NoPeerIdentityError, NoRouteError, UpstreamResetError, UpstreamTimeoutError, type ProxyError,
} from '../../src/layers/errors';
import { encodeGrpcMessage, formatGrpcTimeout, grpcErrorHeaders, grpcStatusOf, isGrpc, parseGrpcTimeout } from '../../src/http/grpc';

describe('http/grpc: what the data path knows of gRPC', () => {
  describe('parseGrpcTimeout', () => {
    const cases: [string | undefined, number | undefined][] = [
      ['100m', 100], ['1S', 1000], ['2M', 120_000], ['1H', 3_600_000], ['500u', 0.5], ['1000000n', 1], [' 5m ', 5],
      ['99999999m', 99_999_999], ['123456789m', undefined], ['10', undefined], ['m', undefined], ['1.5S', undefined], ['-1S', undefined],
      [undefined, undefined],
    ];
    for (const [value, ms] of cases) it(`${JSON.stringify(value)} -> ${ms}`, () => expect(parseGrpcTimeout(value)).to.equal(ms));
  });

  describe('formatGrpcTimeout rounds up, and fits 8 digits', () => {
    const cases: [number, string][] = [[0, '1m'], [-5, '1m'], [1.2, '2m'], [100, '100m'], [99_999_999, '99999999m'], [100_000_000, '100000S']];
    for (const [ms, text] of cases) it(`${ms} -> ${text}`, () => expect(formatGrpcTimeout(ms)).to.equal(text));
  });

  describe('grpcStatusOf: the sidecar\'s errors as gRPC statuses', () => {
    const cases: [ProxyError, number][] = [
      [new UpstreamTimeoutError('a.b', 'r/0', 100, 'connect'), 4],
      [new AttemptTimeoutError('a.b', 1, 100, 'connect'), 4],
      [new DeadlineExceededError('a.b', 100, 'connect'), 4],
      [NoEndpointsError.unknownService('a'), 14],
      [new ConnectError('a.b', '1.2.3.4:5', new Error('refused')), 14],
      [new UpstreamResetError('a.b', '1.2.3.4:5', new Error('reset')), 14],
      [new NoRouteError('a.b', ['r'], 'GET', '/'), 12],
      [new BadRequestError('bad'), 13],
      [new BadRequestError('forbidden', 403), 7],
      [new NoPeerIdentityError(), 16],
      [new InternalError(new Error('bug')), 13],
      [new ClientClosedError(), 1],
    ];
    for (const [err, status] of cases) it(`${err.code} (${err.httpStatus}) -> ${status}`, () => expect(grpcStatusOf(err)).to.equal(status));
  });

  it('answers a sidecar error as trailers-only headers with the stable code', () => {
    expect(grpcErrorHeaders(new DeadlineExceededError('a.b', 100, 'response headers'))).to.include({
      'content-type': 'application/grpc', 'grpc-status': '4', 'x-weft-error': 'WEFT_ERR_DEADLINE_EXCEEDED',
    });
  });

  describe('encodeGrpcMessage percent-encodes what is not printable ASCII, and %', () => {
    const cases: [string, string][] = [['no such item', 'no such item'], ['100%', '100%25'], ['☃', '%E2%98%83'], ['a\nb', 'a%0Ab']];
    for (const [text, encoded] of cases) {
      it(`${JSON.stringify(text)} -> ${encoded}`, () => {
        expect(encodeGrpcMessage(text)).to.equal(encoded);
        expect(decodeURIComponent(encoded)).to.equal(text);
      });
    }
  });

  describe('isGrpc', () => {
    const cases: [string | undefined, boolean][] = [
      ['application/grpc', true], ['application/grpc+proto', true], ['Application/GRPC', true],
      ['application/grpc-web', false], ['application/grpc-web+proto', false], ['application/json', false], [undefined, false],
    ];
    for (const [ct, yes] of cases) it(`${JSON.stringify(ct)} -> ${yes}`, () => expect(isGrpc(ct)).to.equal(yes));
  });
});
