import type * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import { API_VERSION, DELTA_FEATURE, type ApplyResponse, type DiscoveryResponse, type ListProxiesResponse, type ProxyConfig } from '@weft/api';
import { startControlPlane, type OperatorConfig, type RunningControlPlane } from '../../src/index';
import { OpenedStreams, type TestDiscoveryStream } from '../helpers/discovery-client';
import { quietLogger, readOperatorConfig, waitFor } from '@weft/harness';
import { acceptAnyAddress, makeTempDir, removeDir, route } from '../helpers/fixtures';
import { joinAs, makeClient, operatorCredential, unaryCall, type ClientCredential } from '../helpers/grpc-clients';

/** The names of the resources a response carries (a delta: only the new and changed ones). */
const names = (res: DiscoveryResponse): string[] => (res.snapshot?.resources ?? []).map((r) => r.name);
const revisionOf = (res: DiscoveryResponse): number => Number(res.version.split('-')[0]);
/** How long a response may take to come: an upper bound for a loaded machine, not a speed assertion. */
const WAIT_MS = 15_000;

/**
 * Issue 14: a change goes only to the proxies whose view it changes (who may call whom comes from
 * the AuthorizationPolicies), and a sidecar that takes deltas gets what changed, not the mesh.
 * The proof that a proxy was not pushed a change is ordinal, not a timer: after a change that
 * concerns everyone, its next response must be that one.
 */
describe('Discovery.Stream: pushes scoped to who may call whom, as deltas', function () {
  this.timeout(120_000);
  let dir: string | undefined;
  let cp: RunningControlPlane | undefined;
  let config: OperatorConfig;
  let admin: grpc.Client;
  let frontend: ClientCredential;
  let ratings: ClientCredential;
  let orders: ClientCredential;
  const opened = new OpenedStreams();

  async function start(): Promise<void> {
    cp = await startControlPlane({ dataDir: dir as string, listen: '127.0.0.1:0', http: '127.0.0.1:0', pushDebounceMs: 50, endpointGraceMs: 60_000, logger: quietLogger, verifyAddress: acceptAnyAddress });
    config = readOperatorConfig(cp.operatorConfigPath);
    admin = opened.client(makeClient(cp, config, 'Admin', operatorCredential(config)));
  }

  /** A stream that announced `service` (no endpoint unless `address`) and ACKed its first snapshot. */
  async function connect(credential: ClientCredential, proxyId: string, service: string, address = ''): Promise<{ stream: TestDiscoveryStream; first: DiscoveryResponse }> {
    const stream = opened.open(makeClient(cp as RunningControlPlane, config, 'Discovery', credential));
    stream.announce({ proxyId, service, address, features: [DELTA_FEATURE] });
    const first = await stream.next(WAIT_MS);
    stream.ack(first);
    return { stream, first };
  }

  async function apply(...docs: Record<string, unknown>[]): Promise<ApplyResponse> {
    return unaryCall<ApplyResponse>(admin, 'Apply', { documents: docs.map((d, i) => ({ source: 'test.yaml', index: i + 1, json: JSON.stringify(d) })), dryRun: false });
  }

  async function synced(proxyId: string, version: string): Promise<void> {
    await waitFor(`${proxyId} to ACK ${version}`, async () => {
      const p = (await unaryCall<ListProxiesResponse>(admin, 'ListProxies', {})).proxies.find((x) => x.proxyId === proxyId);
      return p?.ackedVersion === version && p.sentVersion === version ? true : undefined;
    }, WAIT_MS);
  }

  before(async () => {
    dir = await makeTempDir();
    await start();
    frontend = (await joinAs(cp as RunningControlPlane, config, admin, 'frontend')).credential;
    ratings = (await joinAs(cp as RunningControlPlane, config, admin, 'ratings')).credential;
    orders = (await joinAs(cp as RunningControlPlane, config, admin, 'orders')).credential;
    await apply({ apiVersion: API_VERSION, kind: 'AuthorizationPolicy', metadata: { name: 'orders-callers' }, spec: { service: 'orders', action: 'ALLOW', rules: [{ from: [{ service: 'frontend' }] }] } });
  });

  afterEach(() => opened.endStreams());

  after(async () => {
    opened.closeAll();
    await cp?.close();
    await removeDir(dir);
  });

  it('pushes a route change only to the callers of its service; an unrelated proxy gets the next change that concerns it, and nothing before', async () => {
    const f = await connect(frontend, 'frontend-1', 'frontend');
    const r = await connect(ratings, 'ratings-1', 'ratings');
    const o = await connect(orders, 'orders-1', 'orders');
    expect(f.first.snapshot?.baseVersion, 'the first snapshot on a stream is whole').to.equal('');

    const toOrders = await apply(route('orders-route', 'orders'));
    const pushed = await f.stream.next(WAIT_MS);
    expect(revisionOf(pushed)).to.equal(toOrders.revision);
    expect(pushed.snapshot?.baseVersion, 'a delta against the version frontend runs').to.equal(f.first.version);
    expect(names(pushed)).to.deep.equal(['orders-route']);
    f.stream.ack(pushed);
    await synced('frontend-1', pushed.version);

    const toAll = await apply(route('payments-route', 'payments'));
    for (const other of [r, o]) {
      const next = await other.stream.next(WAIT_MS);
      expect(revisionOf(next), 'the first push after the orders route is the payments route').to.equal(toAll.revision);
      expect(names(next)).to.deep.equal(['payments-route']);
      other.stream.ack(next);
    }
    const config = await unaryCall<ProxyConfig>(admin, 'GetProxyConfig', { proxyId: 'ratings-1' });
    expect(config.acked?.snapshot?.resources.map((x) => x.name), 'ratings may not call orders: its whole snapshot leaves orders out').to.deep.equal(['payments-route']);
    expect(config.acked?.snapshot?.baseVersion, 'proxy-config shows the whole snapshot a delta makes').to.equal('');
  });

  it('sends an endpoint change to the callers only, with that service alone; the ACKed whole snapshot has it', async () => {
    const f = await connect(frontend, 'frontend-2', 'frontend');
    const r = await connect(ratings, 'ratings-2', 'ratings');
    await connect(orders, 'orders-2', 'orders', '10.2.0.1:15006');
    let pushed = await f.stream.next(WAIT_MS);
    while (!pushed.snapshot?.services.some((s) => s.service === 'orders')) pushed = await f.stream.next(WAIT_MS);
    expect(pushed.snapshot?.services.map((s) => s.service)).to.deep.equal(['orders']);
    expect(pushed.snapshot?.services[0]?.endpoints.map((e) => e.address)).to.deep.equal(['10.2.0.1:15006']);
    expect(pushed.snapshot?.resources, 'no resource changed').to.deep.equal([]);
    f.stream.ack(pushed);
    await synced('frontend-2', pushed.version);
    const whole = await unaryCall<ProxyConfig>(admin, 'GetProxyConfig', { proxyId: 'frontend-2' });
    expect(whole.acked?.snapshot?.services.map((s) => s.service)).to.deep.equal(['orders']);
    expect(whole.acked?.snapshot?.resources.map((x) => x.name)).to.include.members(['orders-route', 'payments-route']);

    const toAll = await apply(route('payments-route', 'payments', { labels: { round: '2' } }));
    const next = await r.stream.next(WAIT_MS);
    expect(revisionOf(next), 'ratings was not sent the orders endpoint').to.equal(toAll.revision);
    expect(next.snapshot?.services).to.deep.equal([]);
  });

  it('answers a NACKed delta with the whole snapshot of the same version', async () => {
    const f = await connect(frontend, 'frontend-3', 'frontend');
    await apply(route('orders-route', 'orders', { labels: { round: '3' } }));
    const delta = await f.stream.next(WAIT_MS);
    expect(delta.snapshot?.baseVersion).to.equal(f.first.version);
    f.stream.nack(delta, f.first.version, 'a delta against another version');
    const whole = await f.stream.next(WAIT_MS);
    expect(whole.version).to.equal(delta.version);
    expect(whole.snapshot?.baseVersion).to.equal('');
    expect(whole.snapshot?.resources.map((x) => x.name)).to.include.members(['orders-route', 'payments-route']);
    f.stream.ack(whole);
    await synced('frontend-3', whole.version);
  });

  it('reads every resource and the scopes back after a restart', async () => {
    opened.endStreams();
    await cp?.close();
    await start();
    const f = await connect(frontend, 'frontend-4', 'frontend');
    const r = await connect(ratings, 'ratings-4', 'ratings');
    expect(names(f.first)).to.deep.equal(['orders-route', 'payments-route']);
    expect(names(r.first)).to.deep.equal(['payments-route']);
  });
});
