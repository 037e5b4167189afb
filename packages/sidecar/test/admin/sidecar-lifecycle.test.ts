import { expect } from 'chai';
import { recordingLogger, waitFor } from '@weft/harness';
import { startSidecar, type RunningSidecar } from '../../src/sidecar';
import { FakeControlPlane } from '../control/fake-control-plane';
import { stubCompile } from '../control/helpers';
import { fakeListener } from './fake-listener';
import { request } from './http';
import type { ConfigView } from '../../src/admin/config-view';


describe('sidecar lifecycle: /ready, /config, drain', function () {
  this.timeout(30_000);
  let cp: FakeControlPlane;
  let sidecar: RunningSidecar | undefined;
  const closes: number[] = [];
  const logger = recordingLogger();
  // What the fake outbound listener reports as served; a test moves it to play an app still calling.
  const outbound = { served: 0 };

  beforeEach(async () => {
    cp = await FakeControlPlane.start();
    closes.length = 0;
    outbound.served = 0;
  });
  afterEach(async () => {
    await sidecar?.close();
    sidecar = undefined;
    await cp?.stop();
  });

  async function start(drainTimeoutMs = 3_000, more: { advertiseAddress?: string; drainQuietMs?: number } = {}): Promise<RunningSidecar> {
    sidecar = await startSidecar({
      service: 'orders', appPort: 8080, controlPlane: cp.address, token: cp.tokenFor('orders'), labels: { version: 'v1' },
      inboundPort: 0, outboundPort: 0, adminPort: 0, bindAdmin: '127.0.0.1', drainTimeoutMs, logger, ...more,
      overrides: {
        compile: stubCompile,
        startOutbound: () => fakeListener(closes, outbound),
        startInbound: () => fakeListener(closes),
        reconnectBackoff: { baseMs: 50, capMs: 200 },
        announceMs: 300,
      },
    });
    return sidecar;
  }

  it('turns ready only with a certificate, a first config and listeners, and tells the control plane', async () => {
    cp.holdSnapshots = true;
    const s = await start();
    expect(s.ports.admin).to.be.greaterThan(0);
    const before = await request(s.ports.admin, '/ready');
    expect(before.status).to.equal(503);
    expect(before.body).to.match(/waiting for the first config/);
    await waitFor('the node', () => cp.nodes.length === 1);
    expect(cp.nodes[0]).to.deep.include({ ready: false, address: `127.0.0.1:${s.ports.inbound}`, service: 'orders' });

    cp.push(cp.makeSnapshot());
    await s.whenReady();
    expect((await request(s.ports.admin, '/ready')).status).to.equal(200);
    await waitFor('the ready node', () => cp.nodes.at(-1)?.ready === true);
  });

  for (const [given, host] of [['10.1.2.3', '10.1.2.3'], ['fd00::7', '[fd00::7]']] as const) {
    it(`announces --advertise-address ${given} (a bare host) with the inbound port it listens on`, async () => {
      const s = await start(3_000, { advertiseAddress: given });
      await waitFor('the node', () => cp.nodes.length > 0);
      expect(cp.nodes[0]?.address).to.equal(`${host}:${s.ports.inbound}`);
    });
  }

  it('/config shows identity, control plane and config state, and never key material', async () => {
    const s = await start();
    await s.whenReady();
    const res = await request(s.ports.admin, '/config');
    expect(res.status).to.equal(200);
    const view = JSON.parse(res.body) as ConfigView;
    expect(view.proxyId).to.equal(s.self.proxyId);
    expect(view.identity).to.deep.include({ spiffeId: 'spiffe://weft.local/ns/default/sa/orders', trustBundleRoots: 1 });
    expect(new Date(view.identity!.certificateExpiresAt).getTime()).to.equal(s.identity.current?.expiresAtMs);
    expect(view.controlPlane).to.deep.include({ address: cp.address, connected: true, lastError: null });
    expect(view.config).to.deep.include({ version: '1', storeRevision: 1, lastNack: null });
    expect(view.inForce).to.deep.equal({ stub: true, spec: {}, resources: 0 });

    const key = s.identity.current!.privateKeyPem;
    expect(res.body).not.to.include('PRIVATE KEY');
    // Any 40-character run of the key's base64 body would be key material.
    const body = key.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
    for (let i = 0; i + 40 <= body.length; i += 40) expect(res.body).not.to.include(body.slice(i, i + 40));

    cp.push(cp.makeSnapshot('{broken'));
    await waitFor('the NACK', () => cp.nacks.length === 1);
    const after = JSON.parse((await request(s.ports.admin, '/config')).body) as ConfigView;
    expect(after.config.version).to.equal('1');
    expect(after.config.lastNack).to.deep.include({ version: '2', message: 'meshConfigJson is not JSON' });
  });

  it('/metrics carries the lifecycle gauges, with one config version series', async () => {
    const s = await start();
    await s.whenReady();
    const first = (await request(s.ports.admin, '/metrics')).body;
    expect(first).to.match(/^weft_control_plane_connected 1$/m);
    expect(first).to.match(/^weft_ready 1$/m);
    expect(first).to.include('weft_config_version_info{version="1"} 1');
    const expiry = Number(/^weft_certificate_expiry_timestamp_seconds (\S+)$/m.exec(first)?.[1]);
    expect(expiry * 1000).to.equal(s.identity.current?.expiresAtMs);
    const next = cp.push(cp.makeSnapshot());
    await waitFor('the new version', () => s.config.current?.version === next);
    const second = (await request(s.ports.admin, '/metrics')).body;
    expect(second).to.include(`weft_config_version_info{version="${next}"} 1`);
    expect(second).not.to.include('weft_config_version_info{version="1"}');
  });

  it('drains: 503 at once, endpoint withdrawn, listeners given the rest of the drain timeout', async () => {
    const s = await start(2_000, { drainQuietMs: 400 });
    await s.whenReady();
    await waitFor('the ready node', () => cp.nodes.at(-1)?.ready === true);
    const draining = s.drain();
    const during = await request(s.ports.admin, '/ready');
    expect(during.status).to.equal(503);
    expect(during.body).to.include('draining');
    await waitFor('the withdrawn node', () => cp.nodes.at(-1)?.ready === false);
    await draining;
    expect(closes).to.have.length(2);
    // Inbound first: the 2 s budget minus the 300 ms announce wait (timers may fire a millisecond
    // early). Then outbound, once the app made no call for 400 ms (polled every 100 ms).
    expect(closes[0]).to.be.within(1_400, 1_705);
    expect(closes[1]).to.be.within(900, 1_305);
    await waitFor('the stream to close', () => cp.openStreams === 0);
    const gone = await request(s.ports.admin, '/live').then(() => 'open', () => 'closed');
    expect(gone).to.equal('closed');
  });

  it('keeps the outbound port open while the app still calls out, and closes it once the app is quiet', async () => {
    const s = await start(20_000, { drainQuietMs: 300 });
    await s.whenReady();
    const draining = s.drain();
    let done = false;
    void draining.then(() => (done = true));
    // The app keeps calling for 1.5 s after SIGTERM: inbound closes (after the announce wait), outbound stays.
    for (let i = 0; i < 15; i++) {
      outbound.served += 1;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(closes, 'only inbound closed while the app was calling').to.have.length(1);
    expect(done).to.equal(false);
    await draining; // the app is quiet now: well before the 20 s drain timeout
    expect(closes).to.have.length(2);
    expect(closes[1]).to.be.greaterThan(15_000);
    expect(logger.lines.map((l) => l.msg)).to.include('app quiet; closing its ports');
  });

  it('fails fast, and closes what it started, when the token is for another control plane', async () => {
    const other = await FakeControlPlane.start();
    try {
      const err = await startSidecar({
        service: 'orders', appPort: 8080, controlPlane: cp.address, token: other.tokenFor('orders'),
        inboundPort: 0, outboundPort: 0, adminPort: 0, bindAdmin: '127.0.0.1', logger,
      }).then(() => undefined, (e: unknown) => e as Error & { code?: string });
      expect(err?.code).to.equal('WEFT_ERR_CONTROL_PLANE_MISMATCH');
      expect(err?.message).to.include(`the control plane at ${cp.address} is not the one the token was made for`);
    } finally {
      await other.stop();
    }
  });
});
