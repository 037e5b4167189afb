import { expect } from 'chai';
import { describeOtlpClient, OtlpClientFileError, parseHeaders, readOtlpClient, type OtlpClientFiles } from '../../src/telemetry/otlp-client';

const FILES: Record<string, string> = {
  '/etc/weft/ca.pem': 'CA PEM',
  '/etc/weft/client.pem': 'CERT PEM',
  '/etc/weft/client.key': 'KEY PEM',
  '/etc/weft/headers': '# hosted backend\nX-Api-Key: s3cr3t\n\nx-tenant: team-a\r\n',
};
const read = (path: string): Buffer => {
  const text = FILES[path];
  if (text === undefined) throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
  return Buffer.from(text);
};

describe('telemetry/otlp-client: --otlp-*-file flags', () => {
  it('reads every file once; header names lower-cased, comments and blank lines skipped', () => {
    const settings = readOtlpClient({ caFile: '/etc/weft/ca.pem', certFile: '/etc/weft/client.pem', keyFile: '/etc/weft/client.key', headersFile: '/etc/weft/headers' }, read);
    expect(settings?.caPem?.toString()).to.equal('CA PEM');
    expect(settings?.certPem?.toString()).to.equal('CERT PEM');
    expect(settings?.keyPem?.toString()).to.equal('KEY PEM');
    expect(settings?.headers).to.deep.equal([
      ['x-api-key', 's3cr3t'],
      ['x-tenant', 'team-a'],
    ]);
    expect(describeOtlpClient(settings)).to.deep.equal({ tls: true, clientCertificate: true, headers: ['x-api-key', 'x-tenant'] });
  });

  it('is nothing without flags, and headers alone keep plaintext', () => {
    expect(readOtlpClient({}, read)).to.equal(undefined);
    expect(describeOtlpClient(readOtlpClient({ headersFile: '/etc/weft/headers' }, read))).to.deep.include({ tls: false, clientCertificate: false });
  });

  const refused: [string, OtlpClientFiles | string, string][] = [
    ['a certificate without its key', { certFile: '/etc/weft/client.pem' }, '--otlp-cert-file and --otlp-key-file go together'],
    ['a missing file', { caFile: '/nope/ca.pem' }, '--otlp-ca-file /nope/ca.pem: ENOENT'],
    ['a line without a colon', 'x-api-key s3cr3t', 'line 1: expected "name: value"'],
    ['a name that is not a token', 'x api key: s3cr3t', 'line 1: "x api key" is not a header name'],
    ['a binary metadata name', 'x-token-bin: s3cr3t', 'is not a header name'],
    ['a header the exporter sets', '\ncontent-type: text/plain', 'line 2: "content-type" is set by the exporter itself'],
    ['an empty value', 'x-api-key:', 'line 1: the value of "x-api-key" must be non-empty printable ASCII'],
  ];
  for (const [what, input, message] of refused) {
    it(`refuses ${what}, naming the flag and line but never the value`, () => {
      const run = (): unknown => (typeof input === 'string' ? parseHeaders(input, '/etc/weft/headers') : readOtlpClient(input, read));
      expect(run).to.throw(OtlpClientFileError, message).with.property('code', 'WEFT_ERR_BAD_FLAG');
      try {
        run();
      } catch (err) {
        expect((err as Error).message).to.not.contain('s3cr3t');
      }
    });
  }
});
