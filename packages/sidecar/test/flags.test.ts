import { expect } from 'chai';
import { parseFlags, resolveOptions, UsageError } from '../src/flags';
import { SIDECAR_DEFAULTS, type SidecarOptions } from '../src/options';
import { startSidecar } from '../src/sidecar';

const BASE = ['--service', 'orders', '--app-port', '8080', '--control-plane', '127.0.0.1:15012', '--token', 'weft1.x.y.z'];

function options(argv: string[], env: NodeJS.ProcessEnv = {}) {
  const parsed = parseFlags(argv, env);
  if (parsed.help) throw new Error('unexpected --help');
  return parsed.options;
}

describe('weft-sidecar flags', () => {
  it('fills in the documented defaults', () => {
    const o = options(BASE);
    expect(o).to.deep.include({
      service: 'orders',
      namespace: 'default',
      appPort: 8080,
      appHost: '127.0.0.1',
      inboundPort: 15006,
      outboundPort: 15001,
      adminPort: 15000,
      drainTimeoutMs: 10_000,
    });
    expect(o.labels).to.deep.equal({});
    expect(o.adminRemoteConfig).to.equal(undefined);
    expect(options([...BASE, '--admin-remote-config']).adminRemoteConfig).to.equal(true);
  });

  it('gives memory back after 30 s idle unless --memory-release-idle says otherwise (0s: never)', () => {
    expect(options(BASE).memoryReleaseIdleMs).to.equal(undefined);
    expect(resolveOptions(options(BASE)).memoryReleaseIdleMs).to.equal(30_000);
    expect(options([...BASE, '--memory-release-idle', '5s']).memoryReleaseIdleMs).to.equal(5_000);
    expect(options([...BASE, '--memory-release-idle', '0s']).memoryReleaseIdleMs).to.equal(0);
  });

  it('registers in Consul only with --consul-register, reading the token from --consul-token-file', () => {
    expect(options(BASE).consulRegister).to.equal(undefined);
    expect(options([...BASE, '--consul-register', '127.0.0.1:8500', '--consul-check-interval', '2s']).consulRegister).to.deep.equal({ address: '127.0.0.1:8500', checkIntervalMs: 2_000 });
    expect(() => options([...BASE, '--consul-register', 'consul'])).to.throw(UsageError, /--consul-register/);
    expect(() => options([...BASE, '--consul-token-file', '/t'])).to.throw(UsageError, /--consul-token-file needs --consul-register HOST:PORT/);
    expect(() => options([...BASE, '--consul-register', '127.0.0.1:8500', '--consul-token-file', '/nonexistent'])).to.throw(UsageError, /--consul-token-file \/nonexistent: ENOENT/);
    expect(() => options([...BASE, '--consul-register', '127.0.0.1:8500', '--consul-check-interval', '100ms'])).to.throw(UsageError, /at least 1s/);
  });

  it('serves DNS for mesh names only when --dns-port is given', () => {
    expect(options(BASE).dnsPort).to.equal(undefined);
    expect(options([...BASE, '--dns-port', '15053']).dnsPort).to.equal(15053);
    expect(() => options([...BASE, '--dns-port', 'x'])).to.throw(UsageError, /--dns-port must be a port number/);
  });

  it('reads labels, ports, a drain timeout and the token from the environment', () => {
    const argv = ['--service', 'inventory', '--namespace', 'shop', '--app-port', '9000', '--control-plane', 'cp:15012', '--labels', 'version=v2, zone=a', '--inbound-port', '0', '--drain-timeout', '2s'];
    const o = options(argv, { WEFT_TOKEN: ' weft1.a.b.c \n' });
    expect(o).to.deep.include({ namespace: 'shop', inboundPort: 0, drainTimeoutMs: 2000, token: 'weft1.a.b.c' });
    expect(o.labels).to.deep.equal({ version: 'v2', zone: 'a' });
  });

  it('takes --advertise-address as HOST:PORT or as a bare host (the inbound port is filled in at start)', () => {
    expect(options([...BASE, '--advertise-address', '127.0.0.1']).advertiseAddress).to.equal('127.0.0.1');
    expect(options([...BASE, '--advertise-address', 'orders-1.internal:15006']).advertiseAddress).to.equal('orders-1.internal:15006');
    expect(options([...BASE, '--advertise-address', '[fd00::1]']).advertiseAddress).to.equal('[fd00::1]');
  });

  const bad: [string, string[], RegExp][] = [
    ['a missing service', BASE.slice(2), /--service is required/],
    ['a service that is not a DNS label', ['--service', 'Orders_1', ...BASE.slice(2)], /--service "Orders_1" must be a DNS label/],
    ['an app port out of range', [...BASE.slice(0, 2), '--app-port', '70000', ...BASE.slice(4)], /--app-port must be a port number/],
    ['a control plane address without a port', [...BASE.slice(0, 4), '--control-plane', 'localhost', ...BASE.slice(6)], /control-plane/],
    ['no token at all', BASE.slice(0, 6), /a join token is required/],
    ['two tokens', [...BASE, '--token-file', '/nonexistent'], /--token or --token-file, not both/],
    ['a bad label', [...BASE, '--labels', 'version'], /--labels: "version" is not key=value/],
    ['an advertise address that is no host', [...BASE, '--advertise-address', 'http://x'], /--advertise-address must be HOST or HOST:PORT/],
    ['a bad duration', [...BASE, '--drain-timeout', 'soon'], /--drain-timeout must be a duration/],
    ['a namespace that is not a DNS label', [...BASE, '--namespace', 'Shop'], /--namespace "Shop" must be a DNS label/],
    ['an empty flag', [...BASE, '--app-host', ' '], /--app-host must not be empty/],
    ['an inbound port out of range', [...BASE, '--inbound-port', '65536'], /--inbound-port must be a port number from 0 to 65535/],
    ['an outbound port that is no number', [...BASE, '--outbound-port', 'x'], /--outbound-port must be a port number/],
    ['an admin port above 65535', [...BASE, '--admin-port', '99999'], /--admin-port must be a port number/],
    ['a bad body idle timeout', [...BASE, '--body-idle-timeout', 'long'], /--body-idle-timeout must be a duration/],
    ['a bad drain quiet time', [...BASE, '--drain-quiet', 'later'], /--drain-quiet must be a duration/],
    ['a bad memory release idle time', [...BASE, '--memory-release-idle', 'often'], /--memory-release-idle must be a duration/],
    ['a second control plane address without a port', [...BASE.slice(0, 4), '--control-plane', '127.0.0.1:15012,cp2', ...BASE.slice(6)], /--control-plane must be HOST:PORT/],
    ['an unreadable token file', [...BASE.slice(0, 6), '--token-file', '/nonexistent'], /--token-file \/nonexistent: ENOENT/],
    ['an unknown flag', [...BASE, '--colour', 'blue'], /colour/],
  ];
  for (const [what, argv, message] of bad) {
    it(`refuses ${what} with a message naming the flag`, () => {
      expect(() => parseFlags(argv, {})).to.throw(UsageError, message).with.property('code', 'WEFT_ERR_BAD_FLAG');
    });
  }
});

describe('sidecar options for embedders (resolveOptions, startSidecar)', () => {
  const given: SidecarOptions = { service: 'orders', appPort: 8080, controlPlane: '127.0.0.1:15012', token: 'weft1.x.y.z' };

  it('fills in every default from SIDECAR_DEFAULTS, as the flags do', () => {
    const o = resolveOptions(given);
    expect(o).to.deep.include({
      namespace: 'default', appHost: '127.0.0.1', outboundPort: 15001, inboundPort: 15006, adminPort: 15000,
      bindInbound: '0.0.0.0', bindAdmin: '0.0.0.0', drainTimeoutMs: 10_000, drainQuietMs: 1_000, bodyIdleTimeoutMs: 30_000,
      memoryReleaseIdleMs: 30_000,
    });
    expect(o.advertise).to.deep.equal({ host: SIDECAR_DEFAULTS.advertiseHost, port: undefined });
    expect(o.addresses.toString()).to.equal('127.0.0.1:15012');
    expect(o.consulAgent).to.equal(undefined);
    // The command line's defaults are the same block.
    const flags = parseFlags(['--service', 'orders', '--app-port', '8080', '--control-plane', '127.0.0.1:15012', '--token', 't'], {});
    if (flags.help) throw new Error('unexpected --help');
    for (const key of ['namespace', 'appHost', 'outboundPort', 'inboundPort', 'adminPort', 'bindInbound', 'bindAdmin', 'drainTimeoutMs'] as const) {
      expect(flags.options[key], key).to.equal(o[key]);
    }
  });

  it('keeps what the embedder gave and parses the addresses', () => {
    const o = resolveOptions({ ...given, namespace: 'shop', inboundPort: 0, drainTimeoutMs: 2_000, advertiseAddress: 'orders-1.internal', consulRegister: { address: '[::1]:8500' } });
    expect(o).to.deep.include({ namespace: 'shop', inboundPort: 0, drainTimeoutMs: 2_000 });
    expect(o.advertise).to.deep.equal({ host: 'orders-1.internal', port: undefined });
    expect(o.consulAgent).to.deep.equal({ host: '::1', port: 8500 });
  });

  const bad: [string, Partial<SidecarOptions>, RegExp][] = [
    ['a service that is not a DNS label', { service: 'Orders_1' }, /--service "Orders_1" must be a DNS label/],
    ['a namespace that is not a DNS label', { namespace: 'Shop' }, /--namespace "Shop" must be a DNS label/],
    ['a control plane address without a port', { controlPlane: 'localhost' }, /--control-plane must be HOST:PORT/],
    ['an advertise address that is no host', { advertiseAddress: 'http://x' }, /--advertise-address must be HOST or HOST:PORT/],
    ['a Consul address without a port', { consulRegister: { address: 'consul' } }, /--consul-register must be HOST:PORT/],
  ];
  for (const [what, change, message] of bad) {
    it(`refuses ${what} with the flags' error, naming the flag`, () => {
      expect(() => resolveOptions({ ...given, ...change })).to.throw(UsageError, message).with.property('code', 'WEFT_ERR_BAD_FLAG');
    });
  }

  it('startSidecar refuses bad options with the same error before it listens anywhere', async () => {
    // adminPort 1 would fail to listen (EACCES) if startSidecar got that far.
    const err = await startSidecar({ ...given, service: 'Orders_1', adminPort: 1, bindAdmin: '127.0.0.1' }).then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(UsageError).with.property('code', 'WEFT_ERR_BAD_FLAG');
    expect((err as Error).message).to.match(/--service "Orders_1" must be a DNS label/);
  });
});
