import { expect } from 'chai';
import { parseFlags, USAGE } from '../src/index';

describe('parseFlags', () => {
  it('fills in the defaults', () => {
    const parsed = parseFlags(['--data-dir', '/tmp/x']);
    expect(parsed).to.deep.equal({
      help: false,
      options: {
        dataDir: '/tmp/x',
        listen: '0.0.0.0:15012',
        http: '0.0.0.0:15014',
        trustDomain: 'weft.local',
        endpointGraceMs: 30_000,
        pushDebounceMs: 100,
        sans: [],
      },
    });
  });

  it('takes every flag', () => {
    const parsed = parseFlags([
      '--data-dir=/d', '--listen', ':0', '--http', '127.0.0.1:9', '--trust-domain', 'corp.example',
      '--endpoint-grace', '5s', '--push-debounce', '250ms', '--san', 'cp.example.com', '--san', '10.0.0.7', '--advertise', 'cp.example.com:15012',
    ]);
    expect(parsed.help).to.equal(false);
    if (!('options' in parsed)) return;
    expect(parsed.options).to.deep.include({ listen: ':0', endpointGraceMs: 5000, pushDebounceMs: 250, advertise: 'cp.example.com:15012', trustDomain: 'corp.example' });
    expect(parsed.options.sans).to.deep.equal(['cp.example.com', '10.0.0.7']);
  });

  it('takes --registry consul with its address, token file and datacenter', () => {
    const parsed = parseFlags(['--data-dir', 'd', '--registry', 'consul', '--consul-addr', '127.0.0.1:8500', '--consul-token-file', '/t', '--consul-datacenter', 'dc2']);
    expect('options' in parsed && parsed.options.registry).to.deep.equal({ kind: 'consul', address: '127.0.0.1:8500', tokenFile: '/t', datacenter: 'dc2' });
    const sidecarsOnly = parseFlags(['--data-dir', 'd', '--registry', 'sidecars']);
    expect('options' in sidecarsOnly && sidecarsOnly.options.registry).to.equal(undefined);
  });

  it('takes --store etcd with its endpoints, prefix, TLS files and encryption key file', () => {
    const parsed = parseFlags([
      '--data-dir', 'd', '--store', 'etcd', '--etcd-endpoints', 'https://10.0.0.1:2379, https://10.0.0.2:2379', '--etcd-prefix', '/mesh-a/',
      '--etcd-ca', 'ca.pem', '--etcd-cert', 'c.pem', '--etcd-key', 'k.pem', '--etcd-encryption-key-file', 'enc.key',
    ]);
    if (!('options' in parsed)) throw new Error('expected options');
    expect(parsed.options.store).to.deep.equal({
      kind: 'etcd', endpoints: ['https://10.0.0.1:2379', 'https://10.0.0.2:2379'], prefix: '/mesh-a',
      caFile: 'ca.pem', certFile: 'c.pem', keyFile: 'k.pem', encryptionKeyFile: 'enc.key',
    });
  });

  it('takes --version, whatever else is given', () => {
    expect(parseFlags(['--version'])).to.deep.equal({ help: false, version: true });
    expect(parseFlags(['--data-dir', 'd', '--version'])).to.deep.equal({ help: false, version: true });
  });

  it('lists every flag in --help', () => {
    expect(parseFlags(['--help'])).to.deep.equal({ help: true });
    for (const flag of ['--registry', '--consul-addr', '--consul-token-file', '--consul-datacenter', '--data-dir', '--listen', '--http', '--trust-domain', '--endpoint-grace', '--push-debounce', '--san', '--advertise', '--store', '--etcd-endpoints', '--etcd-prefix', '--etcd-ca', '--etcd-cert', '--etcd-key', '--etcd-encryption-key-file', '--help', '--version']) {
      expect(USAGE).to.contain(flag);
    }
  });

  const bad: [string[], RegExp][] = [
    [[], /--data-dir is required/],
    [['--data-dir', 'd', '--nope'], /nope/],
    [['--data-dir', 'd', '--listen', '15012'], /--listen "15012" is not HOST:PORT/],
    [['--data-dir', 'd', '--http', 'x:99999'], /--http/],
    [['--data-dir', 'd', '--endpoint-grace', '30'], /--endpoint-grace "30" is not a duration/],
    [['--data-dir', 'd', '--push-debounce', 'soon'], /--push-debounce/],
    [['--data-dir', 'd', '--trust-domain', 'Bad Domain'], /--trust-domain/],
    [['--data-dir', 'd', '--san', 'has space'], /--san/],
    [['--data-dir', 'd', '--advertise', ':15012'], /--advertise/],
    [['--data-dir', 'd', 'positional'], /positional/],
    [['--data-dir', 'd', '--registry', 'etcd'], /--registry "etcd" must be sidecars or consul/],
    [['--data-dir', 'd', '--registry', 'consul'], /--registry consul needs --consul-addr HOST:PORT/],
    [['--data-dir', 'd', '--registry', 'consul', '--consul-addr', 'consul'], /--consul-addr "consul" is not HOST:PORT/],
    [['--data-dir', 'd', '--consul-addr', '127.0.0.1:8500'], /--consul-addr needs --registry consul/],
    [['--data-dir', 'd', '--store', 'consul'], /--store "consul" must be file or etcd/],
    [['--data-dir', 'd', '--store', 'etcd'], /--store etcd needs --etcd-endpoints/],
    [['--data-dir', 'd', '--store', 'etcd', '--etcd-endpoints', '10.0.0.1:2379'], /is not http:\/\/HOST:PORT/],
    [['--data-dir', 'd', '--store', 'etcd', '--etcd-endpoints', 'http://a:2379', '--etcd-prefix', 'weft'], /--etcd-prefix "weft" must start with \//],
    [['--data-dir', 'd', '--store', 'etcd', '--etcd-endpoints', 'http://a:2379', '--etcd-cert', 'c.pem'], /--etcd-cert needs --etcd-key/],
    [['--data-dir', 'd', '--etcd-endpoints', 'http://a:2379'], /--etcd-endpoints needs --store etcd/],
  ];
  for (const [argv, message] of bad) {
    it(`rejects ${JSON.stringify(argv)}`, () => {
      let err: { code?: string; message?: string } = {};
      try {
        parseFlags(argv);
      } catch (e) {
        err = e as { code: string; message: string };
      }
      expect(err.code).to.equal('WEFT_ERR_BAD_FLAG');
      expect(err.message).to.match(message);
    });
  }
});
