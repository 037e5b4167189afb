import { expect } from 'chai';
import { connectFailure } from '../src/index';

describe('connectFailure', () => {
  const cases: [string, string | undefined][] = [
    ['No connection established. Last error: Error: connect ECONNREFUSED 127.0.0.1:1. Resolution note: ', 'connection refused'],
    ['No connection established. Last error: connect ETIMEDOUT 10.0.0.9:15012', 'connection timed out'],
    ['Name resolution failed for target dns:nosuchhost.invalid:15012', 'cannot resolve the host name'],
    ['No connection established. Last error: Error: self-signed certificate in certificate chain. Resolution note: ', 'TLS handshake failed (self-signed certificate in certificate chain)'],
    [
      'No connection established. Last error: Error: 802C627A6A7F0000:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:../deps/openssl/openssl/ssl/record/ssl3_record.c:350:. Resolution note: ',
      "the server does not speak TLS (not a control plane's gRPC port?)",
    ],
    ['No connection established. Last error: Error: TLS handshake timed out', 'TLS handshake timed out'],
    // A server's own UNAVAILABLE is not a connection failure: its message stays as it is.
    ['the store is closed (the control plane is shutting down)', undefined],
  ];
  for (const [details, expected] of cases) {
    it(`${details.slice(0, 60)} -> ${String(expected)}`, () => {
      expect(connectFailure(details)).to.equal(expected);
    });
  }
});
