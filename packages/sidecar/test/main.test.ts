import { expect } from 'chai';
import { parseFlags, UsageError } from '../src';

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
    ['an unknown flag', [...BASE, '--colour', 'blue'], /colour/],
  ];
  for (const [what, argv, message] of bad) {
    it(`refuses ${what} with a message naming the flag`, () => {
      expect(() => parseFlags(argv, {})).to.throw(UsageError, message);
    });
  }
});
