import type { CaStatus, ControlPlaneStatus, ProxyStatus } from '@weft/api';
import { expect } from 'chai';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readyUrl } from '../src/check/check-control-plane';
import { CliError } from '../src/errors';
import { run } from '../src/main';
import { FAKE_CONFIG, fakeAdmin, memoryIo } from './memory-io';

const NOW = 1_700_000_000_000;
const DAY = 86_400_000;

const ca = (notAfterMs: number): CaStatus => ({
  phase: 'idle', phaseSinceMs: 0, startedAtMs: 0, signingRootFingerprint: 'ab'.repeat(32), signer: null, proxies: [], waitingFor: '', lastCompletedAtMs: 0,
  roots: [{ fingerprint: 'ab'.repeat(32), subject: 'CN=Weft Root CA', notBeforeMs: NOW - DAY, notAfterMs, role: 'active' }],
});

const healthyProxy: ProxyStatus = {
  proxyId: '5c1e2a9b-0000-4000-8000-000000000001', spiffeId: 'spiffe://weft.local/ns/default/sa/orders', service: 'orders', namespace: 'default', address: '127.0.0.1:15006',
  labels: {}, connected: true, connectedSinceMs: NOW - 60_000, disconnectedAtMs: 0, sentVersion: '3-abc', ackedVersion: '3-abc', ackedAtMs: NOW - 50_000,
  lastNackVersion: '', lastNackMessage: '', lastNackAtMs: 0, certificateExpiresAtMs: NOW + DAY, ready: true, proxyVersion: '0.1.0',
} as ProxyStatus;

describe('weftctl check', () => {
  let server: http.Server;
  let readyStatus = 200;
  let httpAddress = '';

  before(async () => {
    server = http.createServer((_req, res) => {
      res.writeHead(readyStatus);
      res.end(readyStatus === 200 ? 'ready\n' : 'not ready\n');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    httpAddress = `0.0.0.0:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  async function check(options: { proxies?: ProxyStatus[]; caStatus?: CaStatus; status?: () => Promise<ControlPlaneStatus> } = {}) {
    const io = memoryIo({ '/c.json': FAKE_CONFIG }, { now: NOW });
    const admin = fakeAdmin({
      status: options.status ?? (async () => ({ version: '0.1.0', httpAddress, ready: true, nowMs: NOW })),
      caStatus: async () => options.caStatus ?? ca(NOW + 3650 * DAY),
      listProxies: async () => ({ proxies: options.proxies ?? [healthyProxy], currentRevision: '3' }),
    });
    const code = await run(['check', '--config', '/c.json'], io, { connect: () => admin });
    return { code, out: io.out };
  }

  it('passes when everything is healthy; /ready is asked on the endpoint\'s host when the HTTP server binds every interface', async () => {
    const r = await check();
    expect(r.code, r.out).to.equal(0);
    expect(r.out).to.contain(`✓ ready (http://127.0.0.1:${httpAddress.split(':')[1]}/ready answered 200)`);
    expect(r.out).to.contain('✓ clock: this host is 0ms ahead of the control plane');
    expect(r.out).to.contain('✓ the proxy is connected\n  ✓ the proxy is SYNCED\n  ✓ the proxy holds a valid certificate\n  ✓ the proxy is ready\n');
  });

  it('fails on a proxy whose certificate expired, with a hint', async () => {
    const r = await check({ proxies: [{ ...healthyProxy, certificateExpiresAtMs: NOW - 120_000 }] });
    expect(r.code).to.equal(1);
    expect(r.out).to.contain("✗ orders.default (5c1e2a9b)'s certificate expired 2m ago").and.contain('hint: its sidecar could not renew it');
    expect(r.out).not.to.contain('holds a valid certificate');
  });

  it('warns (exit 0) when a root expires within 30 days, fails when it expired', async () => {
    const soon = await check({ caStatus: ca(NOW + 10 * DAY) });
    expect(soon.code).to.equal(0);
    expect(soon.out).to.match(/⚠ root abababababab \(CN=Weft Root CA\) expires \d{4}-\d\d-\d\d \(in 10d\)\n {6}hint: rotate the root without downtime: weftctl ca rotate-root --wait/);
    const expired = await check({ caStatus: ca(NOW - DAY) });
    expect(expired.code).to.equal(1);
    expect(expired.out).to.match(/✗ root abababababab \(CN=Weft Root CA\) expired/);
  });

  it('fails when /ready answers 503, and when the clocks are more than a minute apart', async () => {
    readyStatus = 503;
    try {
      const r = await check();
      expect(r.code).to.equal(1);
      expect(r.out).to.match(/✗ not ready: http:\/\/127\.0\.0\.1:\d+\/ready answered 503 not ready/);
    } finally {
      readyStatus = 200;
    }
    const skewed = await check({ status: async () => ({ version: '0.1.0', httpAddress, ready: true, nowMs: NOW + 5 * 60_000 }) });
    expect(skewed.code).to.equal(1);
    expect(skewed.out).to.contain('✗ clock: this host is 5m behind the control plane').and.contain('Synchronize clocks (NTP)');
  });

  it('stops at an unreachable control plane with one ✗ line saying what to check', async () => {
    const r = await check({ status: async () => Promise.reject(new CliError('WEFT_ERR_UNAVAILABLE', 'cannot reach the control plane at 127.0.0.1:15012: connection refused. Is weft-control-plane running?')) });
    expect(r.code).to.equal(1);
    expect(r.out).to.equal('control plane\n  ✗ not reachable at 127.0.0.1:15012\n      hint: cannot reach the control plane at 127.0.0.1:15012: connection refused. Is weft-control-plane running?\n\n✗ 1 check failed\n');
  });

  it('readyUrl keeps a specific bind host and replaces a wildcard with the endpoint\'s host', () => {
    expect(readyUrl('10.0.0.5:15014', '10.0.0.9:15012')).to.equal('http://10.0.0.5:15014/ready');
    expect(readyUrl(':15014', 'cp.example:15012')).to.equal('http://cp.example:15014/ready');
    expect(readyUrl('0.0.0.0:15014', '[::1]:15012')).to.equal('http://[::1]:15014/ready');
  });
});
