import type { ProxyStatus } from '@weft/api';
import { expect } from 'chai';
import { run } from '../src/main';
import { deriveProxyStatus, type ProxySyncStatus } from '../src/proxy-sync-status';
import { FAKE_CONFIG, fakeAdmin, memoryIo } from './memory-io';

const NOW = 1_700_000_000_000;

export function proxy(overrides: Partial<ProxyStatus> = {}): ProxyStatus {
  return {
    proxyId: 'a1b2c3d4e5f60718',
    spiffeId: 'spiffe://weft.local/ns/default/sa/orders',
    service: 'orders',
    namespace: 'default',
    address: '127.0.0.1:40001',
    labels: {},
    connected: true,
    connectedSinceMs: NOW - 312_000,
    disconnectedAtMs: 0,
    sentVersion: '7',
    ackedVersion: '7',
    ackedAtMs: NOW - 1_000,
    lastNackVersion: '',
    lastNackMessage: '',
    lastNackAtMs: 0,
    certificateExpiresAtMs: NOW + 86_399_000,
    ready: true,
    proxyVersion: '0.1.0',
    ...overrides,
  };
}

describe('deriveProxyStatus', () => {
  const cases: [string, Partial<ProxyStatus>, ProxySyncStatus][] = [
    ['acked the newest version', {}, 'SYNCED'],
    ['newest sent, older acked, no NACK', { sentVersion: '8' }, 'STALE'],
    ['NACKed the newest version', { sentVersion: '8', lastNackVersion: '8', lastNackMessage: 'bad regex' }, 'NACKED'],
    ['NACKed an older version, newest not answered yet', { sentVersion: '9', lastNackVersion: '8' }, 'STALE'],
    ['NACKed before, has since ACKed the newest', { sentVersion: '9', ackedVersion: '9', lastNackVersion: '8' }, 'SYNCED'],
    ['nothing sent yet', { sentVersion: '', ackedVersion: '' }, 'PENDING'],
    ['disconnected, even if it had been synced', { connected: false }, 'DISCONNECTED'],
  ];
  for (const [what, fields, status] of cases) {
    it(`${status}: ${what}`, () => expect(deriveProxyStatus(proxy(fields))).to.equal(status));
  }
});

describe('weftctl proxy-status', () => {
  const proxies = [
    proxy({ service: 'orders', proxyId: 'ffff0000aaaa' }),
    proxy({
      service: 'inventory',
      proxyId: 'abc',
      sentVersion: '8',
      ackedVersion: '7',
      lastNackVersion: '8',
      lastNackMessage: 'Route inventory: spec.rules[0].match[0].path.regex: must be a valid regular expression',
    }),
    proxy({ service: 'frontend', proxyId: '1234567890', connected: false, certificateExpiresAtMs: NOW - 60_000 }),
  ];
  const admin = () => fakeAdmin({ listProxies: async () => ({ proxies, currentRevision: '8' }) });

  it('prints one aligned row per proxy, derived from the server fields', async () => {
    const io = memoryIo({ '/c.json': FAKE_CONFIG }, { now: NOW });
    expect(await run(['proxy-status', '--config', '/c.json'], io, { connect: admin })).to.equal(0);
    expect(io.out).to.equal(
      [
        'NAME                PROXY ID   ADDRESS           STATUS         ACKED VERSION   LAST NACK                                  CERT EXPIRES   CONNECTED SINCE',
        'frontend.default    12345678   127.0.0.1:40001   DISCONNECTED   7               -                                          1m ago         -',
        'inventory.default   abc        127.0.0.1:40001   NACKED         7               Route inventory: spec.rules[0].match[...   in 23h59m      5m12s ago',
        'orders.default      ffff0000   127.0.0.1:40001   SYNCED         7               -                                          in 23h59m      5m12s ago',
        '',
      ].join('\n'),
    );
  });

  it('-o json keeps every server field, the full NACK message, and adds name and status', async () => {
    const io = memoryIo({ '/c.json': FAKE_CONFIG }, { now: NOW });
    expect(await run(['proxy-status', '-o', 'json', '--config', '/c.json'], io, { connect: admin })).to.equal(0);
    const list = JSON.parse(io.out) as (ProxyStatus & { name: string; status: string })[];
    expect(list.map((p) => [p.name, p.status])).to.deep.equal([
      ['frontend.default', 'DISCONNECTED'],
      ['inventory.default', 'NACKED'],
      ['orders.default', 'SYNCED'],
    ]);
    expect(list[1]).to.deep.include({ ...proxies[1], name: 'inventory.default', status: 'NACKED' });
  });

  it('rejects -o yaml as a usage error', async () => {
    const io = memoryIo();
    expect(await run(['proxy-status', '-o', 'yaml'], io)).to.equal(2);
    expect(io.err).to.equal("error: -o yaml: must be one of table, json\nRun 'weftctl proxy-status --help' for usage.\n");
  });
});
