import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { expect } from 'chai';
import { waitFor } from '@weft/harness';
import { Registry, type RegistryNode } from '../../src/index';
import type { ConnectProbeResult } from '@weft/api';
import { makeTempDir, removeDir, sleep } from '../helpers/fixtures';

function node(proxyId: string, extra: Partial<RegistryNode> = {}): RegistryNode {
  return { proxyId, service: 'orders', namespace: 'default', address: `10.0.0.${proxyId.length}:15006`, labels: { version: 'v1' }, ready: true, ...extra };
}

describe('Registry', () => {
  let dir: string;
  let file: string;
  const open: Registry[] = [];

  beforeEach(async () => {
    dir = await makeTempDir();
    file = path.join(dir, 'registry.json');
  });

  afterEach(async () => {
    for (const r of open.splice(0)) await r.close();
    await removeDir(dir);
  });

  async function openRegistry(graceMs: number, probe?: (address: string) => Promise<ConnectProbeResult>): Promise<Registry> {
    const r = await Registry.open({ file, graceMs, persistDebounceMs: 10, ...(probe ? { probe } : {}) });
    open.push(r);
    return r;
  }

  it('groups endpoints by service and notifies only visible changes', async () => {
    const r = await openRegistry(1000);
    let changes = 0;
    r.subscribe(() => changes++);
    const owner = {};
    r.announce(node('a'), owner);
    r.announce(node('bb', { service: 'payments' }), {});
    r.announce(node('a'), owner);
    expect(changes).to.equal(2);
    r.announce(node('a', { ready: false }), owner);
    expect(changes).to.equal(3);
    expect(r.services().map((s) => `${s.namespace}/${s.service}:${s.endpoints.length}`)).to.deep.equal(['default/orders:1', 'default/payments:1']);
  });

  it('keeps an endpoint for the grace period after its stream ends, then drops it', async () => {
    const r = await openRegistry(150);
    const owner = {};
    r.announce(node('a'), owner);
    r.withdraw('a', owner);
    expect(r.endpoints()[0]).to.include({ state: 'disconnected', ready: true });
    await sleep(50);
    expect(r.endpoints()).to.have.length(1);
    await waitFor('the endpoint to expire', () => (r.endpoints().length === 0 ? true : undefined), 1000);
  });

  it('ignores the end of a stream that a newer stream has replaced', async () => {
    const r = await openRegistry(50);
    const oldStream = {};
    const newStream = {};
    r.announce(node('a'), oldStream);
    r.announce(node('a'), newStream);
    r.withdraw('a', oldStream);
    await sleep(120);
    expect(r.endpoints()[0]?.state).to.equal('connected');
  });

  it('loads the last endpoints as unconfirmed and drops only those not re-announced within the grace period', async () => {
    const first = await openRegistry(10_000);
    first.announce(node('a'), {});
    first.announce(node('bb'), {});
    await first.close();
    const saved = JSON.parse(await fs.readFile(file, 'utf8')) as { endpoints: unknown[] };
    expect(saved.endpoints).to.have.length(2);

    const second = await openRegistry(200);
    expect(second.endpoints().map((e) => `${e.proxyId}:${e.state}`)).to.deep.equal(['a:unconfirmed', 'bb:unconfirmed']);
    let changes = 0;
    second.subscribe(() => changes++);
    second.announce(node('a'), {});
    await sleep(100);
    // Still within the grace period: nothing is dropped yet.
    expect(second.endpoints()).to.have.length(2);
    expect(changes).to.equal(0);
    await waitFor('the unconfirmed endpoint to drop', () => (second.endpoints().length === 1 ? true : undefined), 1000);
    expect(second.endpoints()[0]).to.include({ proxyId: 'a', state: 'connected' });
    expect(changes).to.equal(1);
  });

  it('keeps an announced app port across a restart (registry.json), and reads files written before app ports as none', async () => {
    const first = await openRegistry(10_000);
    first.announce(node('a', { appPort: 8080 }), {});
    await first.close();
    const second = await openRegistry(10_000);
    expect(second.endpoints()[0]).to.include({ proxyId: 'a', appPort: 8080 });
    await second.close();
    const saved = JSON.parse(await fs.readFile(file, 'utf8')) as { endpoints: Record<string, unknown>[] };
    for (const e of saved.endpoints) delete e['appPort'];
    await fs.writeFile(file, JSON.stringify(saved));
    const third = await openRegistry(10_000);
    expect(third.endpoints()[0]).to.include({ proxyId: 'a', appPort: 0 });
  });

  describe('departures while the control plane runs', () => {
    /** A probe that answers from `answers` (then `fallback`) and notes every address it was asked about. */
    const scripted = (answers: ConnectProbeResult[], fallback: ConnectProbeResult) => {
      const asked: string[] = [];
      return { asked, probe: async (address: string) => (asked.push(address), answers.shift() ?? fallback) };
    };

    it('withdraws at once an endpoint whose stream ended and whose address refuses connections', async () => {
      const p = scripted([], 'refused');
      const r = await openRegistry(60_000, p.probe);
      let changes = 0;
      r.subscribe(() => changes++);
      const owner = {};
      r.announce(node('a'), owner);
      r.withdraw('a', owner);
      await waitFor('the refused endpoint to go', () => (r.endpoints().length === 0 ? true : undefined), 1000);
      expect(p.asked).to.deep.equal(['10.0.0.1:15006']);
      expect(changes).to.equal(2);
    });

    it('keeps the grace while the address answers or stays silent, probes again, and stops once it is back', async () => {
      const p = scripted(['listening', 'unknown'], 'listening');
      const r = await openRegistry(60_000, p.probe);
      const owner = {};
      r.announce(node('a'), owner);
      r.withdraw('a', owner);
      await waitFor('a second probe', () => (p.asked.length >= 2 ? true : undefined), 2000);
      expect(r.endpoints()[0]).to.include({ state: 'disconnected' });
      r.announce(node('a'), {});
      const asked = p.asked.length;
      await sleep(1200);
      expect(p.asked.length).to.equal(asked);
      expect(r.endpoints()[0]).to.include({ state: 'connected' });
    });

    it('does not probe endpoints loaded after a restart: they wait the grace', async () => {
      const first = await openRegistry(10_000);
      first.announce(node('a'), {});
      await first.close();
      const p = scripted([], 'refused');
      const second = await openRegistry(60_000, p.probe);
      await sleep(100);
      expect([p.asked, second.endpoints().map((e) => e.state)]).to.deep.equal([[], ['unconfirmed']]);
    });

    it('replaces a departed endpoint when a new sidecar announces its address (the instance restarted)', async () => {
      const r = await openRegistry(60_000, scripted([], 'listening').probe);
      const owner = {};
      r.announce(node('old', { address: '10.0.0.9:15006' }), owner);
      r.withdraw('old', owner);
      r.announce(node('new', { address: '10.0.0.9:15006' }), {});
      expect(r.endpoints().map((e) => `${e.proxyId}:${e.state}`)).to.deep.equal(['new:connected']);
    });
  });
});
