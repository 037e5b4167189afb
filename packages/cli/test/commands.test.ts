import type { GetRequest, PolicyResource, WireServiceEndpoints } from '@weft/api';
import { weftVersion } from '@weft/api';
import { expect } from 'chai';
import { parse as parseYaml } from 'yaml';
import { COMMANDS } from '../src/commands/index';
import { CliError } from '../src/errors';
import { run } from '../src/main';
import { FAKE_CONFIG, fakeAdmin, memoryIo } from './memory-io';

const CFG = ['--config', '/c.json'];
const files = { '/c.json': FAKE_CONFIG };

const routes: PolicyResource[] = [
  {
    apiVersion: 'weft.dev/v1alpha1',
    kind: 'Route',
    metadata: { name: 'inventory', namespace: 'default' },
    spec: { service: 'inventory', rules: [{ backends: [{ subset: 'v1', weight: 90 }, { subset: 'v2', weight: 10 }] }] },
  },
  {
    apiVersion: 'weft.dev/v1alpha1',
    kind: 'Route',
    metadata: { name: 'orders', namespace: 'default' },
    spec: { service: 'orders', rules: [{ timeout: '3s', retries: { attempts: 3 } }] },
  },
];

function getFrom(items: PolicyResource[], seen: GetRequest[] = []) {
  return async (req: GetRequest) => {
    seen.push(req);
    const match = items.filter((r) => r.kind === req.kind && (!req.name || r.metadata.name === req.name));
    return { itemsJson: match.map((r) => JSON.stringify(r)), revision: 3 };
  };
}

describe('weftctl get', () => {
  it('prints a table of routes with a summary of each', async () => {
    const io = memoryIo(files);
    const seen: GetRequest[] = [];
    expect(await run(['get', 'routes', ...CFG], io, { connect: () => fakeAdmin({ get: getFrom(routes, seen) }) })).to.equal(0);
    expect(seen).to.deep.equal([{ kind: 'Route', namespace: 'default', name: '' }]);
    expect(io.out).to.equal(
      [
        'NAMESPACE   NAME        SERVICE     RULES   BACKENDS      TIMEOUT   RETRIES',
        'default     inventory   inventory   1       v1=90,v2=10   -         -',
        'default     orders      orders      1       *             3s        3',
        '',
      ].join('\n'),
    );
  });

  it('-o json prints an object for one NAME, an array for a list; -A asks every namespace', async () => {
    const seen: GetRequest[] = [];
    const one = memoryIo(files);
    expect(await run(['get', 'rt', 'orders', '-n', 'default', '-o', 'json', ...CFG], one, { connect: () => fakeAdmin({ get: getFrom(routes, seen) }) })).to.equal(0);
    expect(JSON.parse(one.out)).to.deep.equal(routes[1]);
    const all = memoryIo(files);
    expect(await run(['get', 'Route', '-A', '-o', 'json', ...CFG], all, { connect: () => fakeAdmin({ get: getFrom(routes, seen) }) })).to.equal(0);
    expect(JSON.parse(all.out)).to.deep.equal(routes);
    expect(seen[1]).to.deep.equal({ kind: 'Route', namespace: '', name: '' });
  });

  it('-o yaml prints documents that apply accepts', async () => {
    const io = memoryIo(files);
    expect(await run(['get', 'routes', '-o', 'yaml', ...CFG], io, { connect: () => fakeAdmin({ get: getFrom(routes) }) })).to.equal(0);
    expect(io.out.split('---\n').map((doc) => parseYaml(doc) as unknown)).to.deep.equal(routes);
  });

  it('says so on stderr when nothing is found, and fails for a missing NAME', async () => {
    const empty = memoryIo(files);
    expect(await run(['get', 'servicepolicies', ...CFG], empty, { connect: () => fakeAdmin({ get: getFrom([]) }) })).to.equal(0);
    expect([empty.out, empty.err]).to.deep.equal(['', 'No servicepolicies found in namespace "default".\n']);
    const missing = memoryIo(files);
    expect(await run(['get', 'route', 'nope', ...CFG], missing, { connect: () => fakeAdmin({ get: getFrom(routes) }) })).to.equal(1);
    expect(missing.err).to.equal('error: Route "nope" not found in namespace "default"\n');
  });

  it('lists services with ready/total endpoints, their labels, and each subset with the endpoints it matches', async () => {
    const services: WireServiceEndpoints[] = [
      {
        service: 'inventory',
        namespace: 'default',
        spiffeId: 'spiffe://weft.local/ns/default/sa/inventory',
        endpoints: [
          { address: '127.0.0.1:4001', labels: { version: 'v1' }, ready: true, proxyId: 'p1' },
          { address: '127.0.0.1:4002', labels: { version: 'v2' }, ready: false, proxyId: 'p2' },
        ],
      },
      { service: 'orders', namespace: 'shop', spiffeId: '', endpoints: [] },
    ];
    const policy = {
      apiVersion: 'weft.dev/v1alpha1', kind: 'ServicePolicy', metadata: { name: 'inventory', namespace: 'default' },
      spec: { service: 'inventory', subsets: [{ name: 'v1', labels: { version: 'v1' } }, { name: 'v2', labels: { version: 'v2' } }, { name: 'v3', labels: { version: 'v3' } }] },
    };
    const asked: unknown[] = [];
    const admin = fakeAdmin({
      listServices: async () => ({ services }),
      get: async (req) => (asked.push(req), { itemsJson: [JSON.stringify(policy)], revision: 1 }),
    });
    const io = memoryIo(files);
    expect(await run(['get', 'svc', ...CFG], io, { connect: () => admin })).to.equal(0);
    expect(io.out).to.equal(
      'NAMESPACE   NAME        ENDPOINTS   SUBSETS                  ADDRESSES\n' +
        'default     inventory   1/2         v1 1/1, v2 0/1, v3 0/0   127.0.0.1:4001 {version=v1}, 127.0.0.1:4002 {version=v2} (not ready)\n',
    );
    expect(asked).to.deep.equal([{ kind: 'ServicePolicy', namespace: 'default', name: '' }]);
    const one = memoryIo(files);
    expect(await run(['get', 'services', 'orders', '-n', 'shop', '-o', 'json', ...CFG], one, { connect: () => fakeAdmin({ listServices: async () => ({ services }) }) })).to.equal(0);
    expect(JSON.parse(one.out)).to.deep.equal(services[1]);
  });

  it('get services marks an endpoint whose address was not verified, and does not count it as ready', async () => {
    const services = [
      {
        service: 'orders',
        namespace: 'default',
        spiffeId: 'spiffe://weft.local/ns/default/sa/orders',
        endpoints: [
          { address: '127.0.0.1:4001', labels: {}, ready: true, proxyId: 'p1', verification: 'verified', verificationDetail: '' },
          { address: '127.0.0.1:4002', labels: {}, ready: true, proxyId: 'p2', verification: 'refused', verificationDetail: '127.0.0.1:4002 serves a certificate for spiffe://weft.local/ns/default/sa/payments, not spiffe://weft.local/ns/default/sa/orders' },
          { address: '127.0.0.1:4003', labels: {}, ready: true, proxyId: 'p3', verification: 'unverified', verificationDetail: 'connection refused' },
        ],
      },
    ];
    const io = memoryIo(files);
    expect(await run(['get', 'svc', ...CFG], io, { connect: () => fakeAdmin({ listServices: async () => ({ services }), get: async () => ({ itemsJson: [], revision: 1 }) }) })).to.equal(0);
    expect(io.out).to.equal(
      'NAMESPACE   NAME     ENDPOINTS   SUBSETS   ADDRESSES\n' +
        'default     orders   1/3         -         127.0.0.1:4001, 127.0.0.1:4002 (refused), 127.0.0.1:4003 (unverified)\n',
    );
  });

  const usage: [string[], string][] = [
    [['get'], 'missing argument: get KIND [NAME] [-n NS | -A] [-o table|json|yaml]'],
    [['get', 'gateways'], 'unknown kind "gateways": use one of meshconfig, routes, servicepolicies, authorizationpolicies, services, proxies'],
    [['get', 'routes', '-n', 'a', '-A'], 'use either -n NS or -A, not both'],
    [['get', 'routes', 'x', '-A'], 'a NAME cannot be looked up across all namespaces (-A); use -n NS'],
    [['get', 'routes', '-o', 'xml'], '-o xml: must be one of table, json, yaml'],
    [['get', 'routes', '-n', 'Bad_NS'], 'namespace "Bad_NS" is not a valid name: lower-case letters, digits and "-", at most 63 characters'],
  ];
  for (const [argv, message] of usage) {
    it(`usage error (exit 2): ${message}`, async () => {
      const io = memoryIo(files);
      expect(await run(argv, io, { connect: () => fakeAdmin() })).to.equal(2);
      expect(io.err).to.equal(`error: ${message}\nRun 'weftctl get --help' for usage.\n`);
    });
  }
});

describe('weftctl delete', () => {
  it('deletes one resource and names it', async () => {
    const io = memoryIo(files);
    const requests: unknown[] = [];
    const admin = fakeAdmin({ delete: async (req) => (requests.push(req), { revision: 4 }) });
    expect(await run(['delete', 'route', 'orders', '-n', 'shop', ...CFG], io, { connect: () => admin })).to.equal(0);
    expect(io.out).to.equal('route.weft.dev/orders deleted\n');
    expect(requests).to.deep.equal([{ kind: 'Route', namespace: 'shop', name: 'orders' }]);
  });

  it('reports the server\'s NOT_FOUND and exits 1', async () => {
    const io = memoryIo(files);
    const admin = fakeAdmin({
      delete: async () => {
        throw new CliError('WEFT_ERR_NOT_FOUND', 'Route default/orders not found');
      },
    });
    expect(await run(['delete', 'routes', 'orders', ...CFG], io, { connect: () => admin })).to.equal(1);
    expect(io.err).to.equal('error: Route default/orders not found\n');
  });
});

describe('weftctl token create', () => {
  it('prints only the token on stdout and the details on stderr', async () => {
    const io = memoryIo(files);
    const requests: unknown[] = [];
    const admin = fakeAdmin({
      createToken: async (req) => {
        requests.push(req);
        return { token: 'wft1.abc.def', expiresAtMs: 1_700_000_000_000 + 3_600_000, spiffeId: 'spiffe://weft.local/ns/shop/sa/orders' };
      },
    });
    expect(await run(['token', 'create', '--service', 'orders', '-n', 'shop', '--ttl', '1h', '--max-uses', '1', ...CFG], io, { connect: () => admin })).to.equal(0);
    expect(io.out).to.equal('wft1.abc.def\n');
    expect(io.err).to.equal('token for spiffe://weft.local/ns/shop/sa/orders, valid until 2023-11-14T23:13:20.000Z (in 1h), at most 1 use\n');
    expect(requests).to.deep.equal([{ service: 'orders', namespace: 'shop', ttlSeconds: 3600, maxUses: 1, unlimitedUses: false }]);
  });

  it('asks for a single-use token by default, and --max-uses says otherwise', async () => {
    const requests: { maxUses: number; unlimitedUses?: boolean }[] = [];
    const admin = fakeAdmin({
      createToken: async (req) => (requests.push(req), { token: 'weft1.x', expiresAtMs: 0, spiffeId: 'spiffe://weft.local/ns/default/sa/orders' }),
    });
    const errs: string[] = [];
    for (const extra of [[], ['--max-uses', '5'], ['--max-uses', 'unlimited']]) {
      const io = memoryIo(files);
      expect(await run(['token', 'create', '--service', 'orders', ...extra, ...CFG], io, { connect: () => admin })).to.equal(0);
      errs.push(io.err);
    }
    expect(requests.map((r) => [r.maxUses, r.unlimitedUses])).to.deep.equal([[1, false], [5, false], [0, true]]);
    expect(errs).to.deep.equal([
      'token for spiffe://weft.local/ns/default/sa/orders, at most 1 use\n',
      'token for spiffe://weft.local/ns/default/sa/orders, at most 5 uses\n',
      'token for spiffe://weft.local/ns/default/sa/orders, any number of uses\n',
    ]);
    const help = memoryIo();
    expect(await run(['token', 'create', '--help'], help)).to.equal(0);
    expect(help.out).to.include('(default 1)').and.include('lets one sidecar join');
  });

  const usage: [string[], string][] = [
    [[], '--service is required'],
    [['--service', 'orders', '--ttl', 'soon'], '--ttl "soon" is not a positive duration such as 30m, 24h or 7d'],
    [['--service', 'orders', '--max-uses', '0'], '--max-uses "0" must be a whole number >= 1, or "unlimited" (any number of sidecars within the TTL)'],
    [['--service', 'Orders'], 'service "Orders" is not a valid name: lower-case letters, digits and "-", at most 63 characters'],
  ];
  for (const [argv, message] of usage) {
    it(`usage error (exit 2): ${message}`, async () => {
      const io = memoryIo(files);
      expect(await run(['token', 'create', ...argv], io)).to.equal(2);
      expect(io.err).to.equal(`error: ${message}\nRun 'weftctl token create --help' for usage.\n`);
    });
  }
});

describe('weftctl configuration and help', () => {
  it('says where it looked for the configuration and where the control plane writes it', async () => {
    const io = memoryIo({});
    expect(await run(['get', 'routes'], io)).to.equal(1);
    expect(io.err).to.include('no weftctl configuration found: looked at /home/op/.weft/config.json');
    expect(io.err).to.include('<data-dir>/weftctl.json');
    const env = memoryIo({}, { env: { WEFT_CONFIG: '/etc/weft.json' } });
    expect(await run(['get', 'routes'], env)).to.equal(1);
    expect(env.err).to.include('cannot read the weftctl configuration /etc/weft.json (from $WEFT_CONFIG): no such file');
  });

  it('never prints the private key, even when the file is incomplete', async () => {
    const partial = JSON.stringify({ ...JSON.parse(FAKE_CONFIG), endpoint: undefined });
    const io = memoryIo({ '/c.json': partial });
    expect(await run(['get', 'routes', ...CFG], io)).to.equal(1);
    expect(io.err).to.equal("error: the weftctl configuration /c.json lacks endpoint; use the weftctl.json the control plane wrote\n");
    expect(io.err + io.out).to.not.include('SECRET');
  });

  it('lists every command in the tool help and every flag in each command help', async () => {
    const tool = memoryIo();
    expect(await run(['--help'], tool)).to.equal(0);
    for (const command of COMMANDS) {
      expect(tool.out).to.include(`  ${command.name}`);
      const io = memoryIo();
      expect(await run([...command.name.split(' '), '--help'], io)).to.equal(0);
      for (const flag of command.flags) expect(io.out, `${command.name} --${flag.name}`).to.include(`--${flag.name}`);
      expect(io.out).to.include('--config FILE');
    }
  });

  it('rejects an unknown command with exit 2', async () => {
    const io = memoryIo();
    expect(await run(['rollout'], io)).to.equal(2);
    expect(io.err).to.equal(`error: unknown command "rollout": use one of ${COMMANDS.map((c) => c.name).join(', ')}\nRun 'weftctl --help' for usage.\n`);
  });
});

describe('weftctl version', () => {
  const client = weftVersion();

  it('--version prints weftctl\'s version without a configuration or a control plane', async () => {
    const io = memoryIo({});
    expect(await run(['--version'], io)).to.equal(0);
    expect([io.out, io.err]).to.deep.equal([`weftctl ${client}\n`, '']);
  });

  it('shows both versions, and no warning when they agree', async () => {
    const io = memoryIo(files);
    expect(await run(['version', ...CFG], io, { connect: () => fakeAdmin({ version: async () => ({ version: client }) }) })).to.equal(0);
    expect(io.out).to.equal(`weftctl        ${client}\ncontrol plane  ${client} (127.0.0.1:15012)\n`);
    expect(io.err).to.equal('');
  });

  it('warns on stderr when they differ, or when the control plane is too old to say', async () => {
    const io = memoryIo(files);
    expect(await run(['version', ...CFG], io, { connect: () => fakeAdmin({ version: async () => ({ version: '9.9.9' }) }) })).to.equal(0);
    expect(io.out).to.contain('control plane  9.9.9 (127.0.0.1:15012)');
    expect(io.err).to.equal(`warning: weftctl ${client} and the control plane 9.9.9 differ: use the weftctl of the control plane's release, or upgrade the older one (the admin API may differ between releases)\n`);
    const old = memoryIo(files);
    const unimplemented = async (): Promise<never> => {
      throw new CliError('WEFT_ERR_UNIMPLEMENTED', 'the control plane does not offer this call');
    };
    expect(await run(['version', '-o', 'json', ...CFG], old, { connect: () => fakeAdmin({ version: unimplemented }) })).to.equal(0);
    expect(JSON.parse(old.out)).to.deep.equal({ client, controlPlane: 'unknown (older than GetVersion)', endpoint: '127.0.0.1:15012' });
    expect(old.err).to.contain('differ');
  });
});
