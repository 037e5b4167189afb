import { expect } from 'chai';
import { CertificateAuthority, certificateFingerprint } from '@weft/pki';
import { DELTA_FEATURE, type Snapshot } from '@weft/api';
import { recordingLogger, waitFor } from '@weft/harness';
import type { CompiledConfig } from '../../src/config/compiled-config';
import { ControlClient, type CompileFn } from '../../src/control/control-client';
import { ControlPlaneAddresses } from '../../src/control/control-plane-addresses';
import { IdentityClient } from '../../src/control/identity-client';
import { JoinToken } from '../../src/control/join-token';
import { Watch } from '../../src/watch';
import { FakeControlPlane } from './fake-control-plane';
import { SELF, stubCompile } from './helpers';


describe('ControlClient (discovery stream)', function () {
  this.timeout(30_000);
  let cp: FakeControlPlane;
  let identityClient: IdentityClient;
  let control: ControlClient | undefined;
  const logger = recordingLogger();

  beforeEach(async () => {
    cp = await FakeControlPlane.start();
    identityClient = new IdentityClient({
      addresses: new ControlPlaneAddresses([{ host: '127.0.0.1', port: cp.port }]), trustDomain: 'weft.local', spiffeId: SELF.spiffeId,
      token: JoinToken.parse(cp.tokenFor('orders')), bootstrapRootPem: cp.ca.rootPem, logger,
    });
    await identityClient.bootstrap();
  });
  afterEach(async () => {
    control?.close();
    control = undefined;
    identityClient?.close();
    await cp?.stop();
  });

  function start(compile: CompileFn = stubCompile, onSigningRoot?: (root: string) => void): { config: Watch<CompiledConfig>; control: ControlClient } {
    const config = new Watch<CompiledConfig>();
    control = new ControlClient({
      addresses: new ControlPlaneAddresses([{ host: '127.0.0.1', port: cp.port }]), trustDomain: 'weft.local', self: SELF,
      identity: identityClient.identity, config, advertiseAddress: '127.0.0.1:15006', proxyVersion: 'test',
      logger, compile, backoff: { baseMs: 50, capMs: 200 }, ...(onSigningRoot ? { onSigningRoot } : {}),
    });
    control.start();
    return { config, control };
  }

  it('announces the node, compiles the snapshot into the config watch and ACKs it', async () => {
    const { config, control } = start();
    await config.next();
    await waitFor('the ACK', () => cp.acks.length === 1);
    expect(config.current?.version).to.equal('1');
    expect(cp.acks[0]?.version).to.equal('1');
    expect(cp.nodes[0]).to.deep.include({ proxyId: 'proxy-1', service: 'orders', namespace: 'default', address: '127.0.0.1:15006', ready: false, proxyVersion: 'test' });
    expect(cp.nodes[0]?.labels).to.deep.equal({ version: 'v1' });
    expect(cp.nodes[0]?.certificateExpiresAtMs).to.equal(identityClient.identity.current?.expiresAtMs);
    expect(control.state).to.deep.include({ connected: true, ackedVersion: '1' });
  });

  it('reports which root its certificate chains to, and passes on the signing root of each accepted snapshot', async () => {
    const roots: string[] = [];
    const { config } = start(stubCompile, (root) => roots.push(root));
    await config.next();
    const material = identityClient.identity.current;
    expect(cp.nodes[0]).to.deep.include({ certificateRootFingerprint: certificateFingerprint(cp.ca.rootPem), certificateSerial: material?.serialNumber });
    expect(roots, 'a snapshot without a signing root says nothing').to.deep.equal([]);
    const next = CertificateAuthority.createRoot('weft.local');
    const fp = certificateFingerprint(next.rootPem);
    const version = cp.push({ ...cp.makeSnapshot(), trustBundlePem: [cp.ca.rootPem, next.rootPem], signingRootFingerprint: fp });
    await waitFor('the two-root bundle to be in force', () => identityClient.identity.current?.trustBundlePem.length === 2);
    await waitFor('the ACK', () => cp.acks.some((a) => a.version === version));
    expect(roots).to.deep.equal([fp]);
    // A renewed certificate is reported on the same stream.
    await identityClient.bootstrap();
    await waitFor('the node with the new serial', () => cp.nodes.at(-1)?.certificateSerial === identityClient.identity.current?.serialNumber);
  });

  it('re-sends the node when readiness changes', async () => {
    const { config, control } = start();
    await config.next();
    await control.setReady(true);
    await waitFor('the ready node', () => cp.nodes.at(-1)?.ready === true);
    await control.setReady(false);
    await waitFor('the withdrawn node', () => cp.nodes.at(-1)?.ready === false);
    expect(cp.nodes).to.have.length(3);
  });

  it('NACKs a snapshot that does not compile and keeps the last good config', async () => {
    const { config, control } = start();
    await config.next();
    const good = config.current;
    const version = cp.push({ ...cp.makeSnapshot('{not json'), storeRevision: 2 });
    await waitFor('the NACK', () => cp.nacks.length === 1);
    expect(cp.nacks[0]).to.deep.include({ version: '1', error: 'meshConfigJson is not JSON' });
    expect(config.current).to.equal(good);
    expect(control.state.lastNack).to.deep.include({ version, message: 'meshConfigJson is not JSON' });
    expect(control.state.ackedVersion).to.equal('1');
    // A later good snapshot is accepted again.
    const next = cp.push(cp.makeSnapshot('{}'));
    await waitFor('the next ACK', () => config.current?.version === next);
    expect(cp.acks.map((a) => a.version)).to.deep.equal(['1', next]);
  });

  it('applies a delta to the snapshot in force, and NACKs one against another version', async () => {
    const compiled: Snapshot[] = [];
    const { config } = start((snapshot, version, self) => {
      compiled.push(snapshot);
      return stubCompile(snapshot, version, self);
    });
    await config.next();
    expect(cp.nodes[0]?.features).to.include(DELTA_FEATURE);
    const orders = { service: 'orders', namespace: 'default', spiffeId: 'spiffe://weft.local/ns/default/sa/orders', endpoints: [] };
    const reviews = { service: 'reviews', namespace: 'default', spiffeId: 'spiffe://weft.local/ns/default/sa/reviews', endpoints: [] };
    cp.push({ ...cp.makeSnapshot(), services: [reviews, orders].map((s) => ({ ...s })), storeRevision: 2 });
    await waitFor('the whole snapshot', () => config.current?.version === '2');
    const added = { ...orders, endpoints: [{ address: '10.0.0.7:15006', labels: {}, ready: true, proxyId: 'o-1' }] };
    const version = cp.push({ ...cp.makeSnapshot(), services: [added], storeRevision: 3, baseVersion: '2', removedServices: ['default/reviews'] });
    await waitFor('the delta applied', () => config.current?.version === version);
    expect(compiled.at(-1)?.services.map((s) => [s.service, s.endpoints.length])).to.deep.equal([['orders', 1]]);
    expect(compiled.at(-1)?.storeRevision).to.equal(3);

    const stale = cp.push({ ...cp.makeSnapshot(), baseVersion: '2', storeRevision: 4 });
    await waitFor('the NACK', () => cp.nacks.length === 1);
    expect(cp.nacks[0]?.error).to.equal(`a delta against version 2, but ${version} is in force here: the control plane sends the whole snapshot next`);
    expect(cp.nacks[0]?.version).to.equal(version);
    expect(config.current?.version).to.not.equal(stale);
  });

  it('NACKs a trust bundle entry that is not a CA certificate', async () => {
    const { config } = start();
    await config.next();
    const leaf = identityClient.identity.current!.certificateChainPem[0]!;
    cp.push({ ...cp.makeSnapshot(), trustBundlePem: [cp.ca.rootPem, leaf] });
    await waitFor('the NACK', () => cp.nacks.length === 1);
    expect(cp.nacks[0]?.error).to.equal('trustBundlePem[1] is not a CA certificate');
    expect(identityClient.identity.current?.trustBundlePem).to.have.length(1);
  });

  it('adopts a changed trust bundle into the identity without touching the certificate', async () => {
    const { config } = start();
    await config.next();
    const before = identityClient.identity.current!;
    const nextRoot = CertificateAuthority.createRoot('weft.local').rootPem;
    const version = cp.push({ ...cp.makeSnapshot(), trustBundlePem: [cp.ca.rootPem, nextRoot] } satisfies Snapshot);
    await waitFor('the new bundle', () => config.current?.version === version);
    const after = identityClient.identity.current!;
    expect(after.trustBundlePem).to.have.length(2);
    expect(after.certificateChainPem).to.equal(before.certificateChainPem);
    expect(after.privateKeyPem).to.equal(before.privateKeyPem);
  });

  it('keeps the last config while the control plane is down and reconnects when it is back', async () => {
    const { config, control } = start();
    await config.next();
    const good = config.current;
    await waitFor('the first ACK', () => cp.acks.length === 1);
    await cp.stop();
    await waitFor('the disconnect', () => !control.state.connected);
    expect(control.state.lastError?.message).to.be.a('string');
    expect(config.current).to.equal(good);
    await new Promise((r) => setTimeout(r, 300)); // a few failed reconnects
    await cp.restart();
    await waitFor('the reconnect and ACK', () => control.state.connected && cp.acks.length >= 2);
    expect(control.state.streams).to.be.at.least(2);
    expect(cp.nodes.at(-1)?.proxyId).to.equal('proxy-1');
  });

  it('re-announces the node after a certificate renewal, on the same stream', async () => {
    const { config, control } = start();
    await config.next();
    const first = cp.nodes[0]!.certificateExpiresAtMs;
    cp.ttlMs = 5_000;
    const renewed = await (async () => {
      // Renew by hand through a second client, as the renewal timer would (24 h is too long to wait).
      const other = new IdentityClient({
        addresses: new ControlPlaneAddresses([{ host: '127.0.0.1', port: cp.port }]), trustDomain: 'weft.local', spiffeId: SELF.spiffeId,
        token: JoinToken.parse(cp.tokenFor('orders')), bootstrapRootPem: cp.ca.rootPem, logger,
      });
      const m = await other.bootstrap();
      other.close();
      return m;
    })();
    identityClient.identity.set(renewed);
    await waitFor('the re-announced node', () => cp.nodes.at(-1)?.certificateExpiresAtMs === renewed.expiresAtMs);
    expect(renewed.expiresAtMs).not.to.equal(first);
    expect(control.state.streams).to.equal(1);
  });

  it('stops reconnecting once closed', async () => {
    const { config, control } = start();
    await config.next();
    control.close();
    await waitFor('the server to see the stream go', () => cp.openStreams === 0);
    const nodes = cp.nodes.length;
    await cp.restart();
    await new Promise((r) => setTimeout(r, 400));
    expect(cp.nodes.length).to.equal(nodes);
  });
});
