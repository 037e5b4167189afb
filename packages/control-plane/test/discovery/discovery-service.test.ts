import * as grpc from '@grpc/grpc-js';
import * as net from 'node:net';
import { expect } from 'chai';
import type { ApplyResponse, DiscoveryResponse, ListProxiesResponse, ListServicesResponse, ProxyConfig } from '@weft/api';
import { API_VERSION } from '@weft/api';
import { quietLogger, readOperatorConfig, waitFor } from '@weft/harness';
import { startControlPlane, type OperatorConfig, type RunningControlPlane } from '../../src/index';
import { DiscoveryService } from '../../src/discovery/discovery-service';
import type { StreamContext } from '../../src/discovery/proxy-stream';
import { OpenedStreams, TestDiscoveryStream } from '../helpers/discovery-client';
import { acceptAnyAddress, makeTempDir, removeDir, route } from '../helpers/fixtures';
import { joinAs, makeClient, operatorCredential, unaryCall, type ClientCredential } from '../helpers/grpc-clients';

describe('Discovery.Stream over mTLS', () => {
  let dir: string | undefined;
  let cp: RunningControlPlane | undefined;
  let config: OperatorConfig;
  let admin: grpc.Client;
  let reviews: ClientCredential;
  let ratings: ClientCredential;
  const opened = new OpenedStreams();

  function open(credential?: ClientCredential): TestDiscoveryStream {
    return opened.open(makeClient(cp as RunningControlPlane, config, 'Discovery', credential));
  }

  async function apply(...docs: Record<string, unknown>[]): Promise<ApplyResponse> {
    return unaryCall<ApplyResponse>(admin, 'Apply', { documents: docs.map((d, i) => ({ source: 'test.yaml', index: i + 1, json: JSON.stringify(d) })), dryRun: false });
  }

  async function proxy(proxyId: string): Promise<ListProxiesResponse['proxies'][number] | undefined> {
    const res = await unaryCall<ListProxiesResponse>(admin, 'ListProxies', {});
    return res.proxies.find((p) => p.proxyId === proxyId);
  }

  before(async () => {
    dir = await makeTempDir();
    // Pushes here do not wait for the answer to the previous one (the wait has a describe of its
    // own below): these tests answer when and how they choose, or not at all.
    cp = await startControlPlane({ dataDir: dir, listen: '127.0.0.1:0', http: '127.0.0.1:0', pushDebounceMs: 50, pushAnswerWaitMs: 0, endpointGraceMs: 60_000, logger: quietLogger, verifyAddress: acceptAnyAddress });
    config = readOperatorConfig(cp.operatorConfigPath);
    admin = opened.client(makeClient(cp, config, 'Admin', operatorCredential(config)));
    reviews = (await joinAs(cp, config, admin, 'reviews')).credential;
    ratings = (await joinAs(cp, config, admin, 'ratings')).credential;
  });

  afterEach(() => opened.endStreams());

  after(async () => {
    opened.closeAll();
    await cp?.close();
    await removeDir(dir);
  });

  it('sends a snapshot on connect; an ACK shows in ListProxies; an apply arrives within 1s; a NACK is recorded', async () => {
    await apply(route('reviews-route', 'reviews'));
    const s = open(reviews);
    s.announce({ proxyId: 'reviews-1', service: 'reviews', address: '10.1.0.1:15006', labels: { version: 'v1' } });
    // The snapshot sent on connect may precede the verification of the proxy's own address; the
    // push that follows it carries the endpoint.
    const onConnect = await s.next();
    const first = onConnect.snapshot?.services.some((x) => x.service === 'reviews') ? onConnect : await s.next();
    expect(first.version).to.match(/^\d+-[0-9a-f]{8}$/);
    expect(first.nonce).to.be.a('string').and.not.empty;
    const snap = first.snapshot as NonNullable<DiscoveryResponse['snapshot']>;
    expect(snap.meshConfigJson).to.equal('{}');
    expect(snap.resources.map((r) => `${r.kind}/${r.name}`)).to.include('Route/reviews-route');
    expect(snap.trustBundlePem).to.deep.equal([config.caPem]);
    const own = snap.services.find((x) => x.service === 'reviews');
    expect(own?.spiffeId).to.equal('spiffe://weft.local/ns/default/sa/reviews');
    expect(own?.endpoints).to.deep.equal([{ address: '10.1.0.1:15006', labels: { version: 'v1' }, ready: true, proxyId: 'reviews-1', verification: '', verificationDetail: '', appPort: 0 }]);

    s.ack(first);
    const acked = await waitFor('the ACK to show', async () => {
      const p = await proxy('reviews-1');
      return p?.ackedVersion === first.version ? p : undefined;
    }, 2000);
    expect(acked).to.include({ connected: true, spiffeId: 'spiffe://weft.local/ns/default/sa/reviews', sentVersion: first.version, address: '10.1.0.1:15006' });
    expect(acked.ackedAtMs).to.be.greaterThan(0);

    const started = Date.now();
    const applied = await apply(route('ratings-route', 'ratings'));
    const pushed = await s.next(1000);
    expect(Date.now() - started).to.be.lessThan(1000);
    expect(pushed.snapshot?.storeRevision).to.equal(applied.revision);
    expect(pushed.version.startsWith(`${applied.revision}-`)).to.equal(true);
    expect(pushed.snapshot?.resources.map((r) => r.name)).to.include('ratings-route');

    s.nack(pushed, first.version, 'Route ratings-route: cannot compile');
    const nacked = await waitFor('the NACK to show', async () => {
      const p = await proxy('reviews-1');
      return p?.lastNackMessage ? p : undefined;
    }, 2000);
    expect(nacked.lastNackVersion).to.equal(pushed.version);
    expect(nacked.lastNackMessage).to.equal('Route ratings-route: cannot compile');
    expect(nacked.ackedVersion).to.equal(first.version);
  });

  it('forgets the pushes sent before the one a proxy answers: a late answer to a superseded push changes nothing', async () => {
    const s = open(ratings);
    s.announce({ proxyId: 'ratings-late', service: 'ratings', address: '10.1.0.9:15006' });
    const superseded = await s.next();
    const applied = await apply(route('ratings-late-route', 'ratings'));
    let current = await s.next();
    while (current.snapshot?.storeRevision !== applied.revision) current = await s.next();
    s.ack(current);
    await waitFor('the ACK to show', async () => ((await proxy('ratings-late'))?.ackedVersion === current.version ? true : undefined), 2000);
    // Out of order (a sidecar never does this): the stream processes messages in order, so once the
    // NACK that follows shows, the late ACK has been handled.
    s.ack(superseded);
    s.nack(current, current.version, 'probe');
    const after = await waitFor('the NACK to show', async () => {
      const p = await proxy('ratings-late');
      return p?.lastNackMessage === 'probe' ? p : undefined;
    }, 2000);
    expect(superseded.version).to.not.equal(current.version);
    expect(after.ackedVersion).to.equal(current.version);
  });

  it('Admin.GetProxyConfig gives the snapshot a proxy ACKed (never one it NACKed) and the one it would be sent now', async () => {
    const s = open(ratings);
    s.announce({ proxyId: 'ratings-1', service: 'ratings', address: '10.1.0.2:15006', labels: {} });
    const first = await s.next();
    const before = await unaryCall<ProxyConfig>(admin, 'GetProxyConfig', { proxyId: 'ratings-1' });
    expect(before.acked).to.equal(null);
    s.ack(first);
    await waitFor('the ACK to show', async () => ((await proxy('ratings-1'))?.ackedVersion === first.version ? true : undefined), 2000);

    await apply(route('ratings-v2', 'ratings'));
    let pushed = await s.next(1000);
    while (!pushed.snapshot?.resources.some((r) => r.name === 'ratings-v2')) pushed = await s.next(1000);
    s.nack(pushed, first.version, 'Route ratings-v2: cannot compile');
    await waitFor('the NACK to show', async () => ((await proxy('ratings-1'))?.lastNackMessage ? true : undefined), 2000);

    const config = await unaryCall<ProxyConfig>(admin, 'GetProxyConfig', { proxyId: 'ratings-1' });
    expect(config.proxy?.lastNackMessage).to.equal('Route ratings-v2: cannot compile');
    expect(config.acked?.version).to.equal(first.version);
    expect(config.acked?.snapshot).to.deep.equal(first.snapshot);
    expect(config.current?.snapshot?.resources.map((r) => r.name)).to.include('ratings-v2');
    const missing = await unaryCall(admin, 'GetProxyConfig', { proxyId: 'nobody' }).then(() => undefined, (err: grpc.ServiceError) => err);
    expect(missing?.code).to.equal(grpc.status.NOT_FOUND);
  });

  it('gives a proxy the AuthorizationPolicies of its own service only', async () => {
    await apply({ apiVersion: API_VERSION, kind: 'AuthorizationPolicy', metadata: { name: 'reviews-authz' }, spec: { service: 'reviews', action: 'ALLOW', rules: [{ from: [{ service: 'ratings' }] }] } });
    const r = open(reviews);
    r.announce({ proxyId: 'reviews-2', service: 'reviews' });
    const g = open(ratings);
    g.announce({ proxyId: 'ratings-1', service: 'ratings' });
    const forReviews = await r.next();
    const forRatings = await g.next();
    expect(forReviews.snapshot?.resources.map((x) => x.name)).to.include('reviews-authz');
    expect(forRatings.snapshot?.resources.map((x) => x.name)).to.not.include('reviews-authz');
  });

  /** A loopback TCP listener standing in for a sidecar's inbound port, so the departure probe connects. */
  async function listening(): Promise<{ address: string; close: () => void }> {
    const server = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { address: `127.0.0.1:${(server.address() as net.AddressInfo).port}`, close: () => server.close() };
  }

  it('pushes endpoint readiness changes to other proxies and keeps a departed endpoint that still listens for the grace period', async () => {
    const inbound = await listening();
    after(() => inbound.close());
    const watcher = open(ratings);
    watcher.announce({ proxyId: 'ratings-w', service: 'ratings' });
    await watcher.next();
    const r = open(reviews);
    r.announce({ proxyId: 'reviews-3', service: 'reviews', address: inbound.address });
    await r.next();
    const ep = (res: DiscoveryResponse) => res.snapshot?.services.find((x) => x.service === 'reviews')?.endpoints.find((e) => e.proxyId === 'reviews-3');
    // Other changes may be pushed first; the endpoint comes once its address is verified.
    let joined = await watcher.next(1000);
    while (!ep(joined)) joined = await watcher.next(1000);
    expect(ep(joined)?.ready).to.equal(true);
    r.announce({ proxyId: 'reviews-3', service: 'reviews', address: inbound.address, ready: false });
    const draining = await watcher.next(1000);
    expect(ep(draining)?.ready).to.equal(false);

    r.close();
    const gone = await waitFor('the proxy to show as disconnected', async () => {
      const p = await proxy('reviews-3');
      return p && !p.connected ? p : undefined;
    }, 2000);
    expect(gone.disconnectedAtMs).to.be.greaterThan(0);
    const services = await unaryCall<ListServicesResponse>(admin, 'ListServices', {});
    const listed = services.services.find((x) => x.service === 'reviews')?.endpoints.find((e) => e.proxyId === 'reviews-3');
    expect(listed, 'kept during the grace period').to.not.equal(undefined);
  });

  it('withdraws at once a departed endpoint whose address refuses connections (the sidecar is gone)', async () => {
    const inbound = await listening();
    inbound.close(); // nothing listens there any more: a connect is refused
    const watcher = open(ratings);
    watcher.announce({ proxyId: 'ratings-w2', service: 'ratings' });
    await watcher.next();
    const r = open(reviews);
    r.announce({ proxyId: 'reviews-4', service: 'reviews', address: inbound.address });
    await r.next();
    r.close();
    await waitFor('the departed endpoint to be withdrawn (the grace is 60 s)', async () => {
      const services = await unaryCall<ListServicesResponse>(admin, 'ListServices', {});
      return services.services.find((x) => x.service === 'reviews')?.endpoints.some((e) => e.proxyId === 'reviews-4') ? undefined : true;
    }, 5000);
  });

  it('refuses a node for another service than the certificate', async () => {
    const s = open(reviews);
    s.announce({ proxyId: 'spoof', service: 'payments' });
    const err = await s.failure();
    expect(err.code).to.equal(grpc.status.PERMISSION_DENIED);
    expect(err.details).to.contain('payments').and.contain('sa/reviews');
    expect(err.metadata.get('weft-error-code')).to.deep.equal(['WEFT_ERR_PERMISSION_DENIED']);
  });

  it('refuses a stream without a workload certificate', async () => {
    const anonymous = open();
    anonymous.announce({ proxyId: 'anon', service: 'reviews' });
    const unauthenticated = await anonymous.failure();
    expect(unauthenticated.code).to.equal(grpc.status.UNAUTHENTICATED);
    expect(unauthenticated.metadata.get('weft-error-code')).to.deep.equal(['WEFT_ERR_UNAUTHENTICATED']);
    const operator = open(operatorCredential(config));
    operator.announce({ proxyId: 'op', service: 'reviews' });
    const denied = await operator.failure();
    expect(denied.code).to.equal(grpc.status.PERMISSION_DENIED);
    expect(denied.metadata.get('weft-error-code')).to.deep.equal(['WEFT_ERR_PERMISSION_DENIED']);
  });

  it('requires the first request to carry the node', async () => {
    const s = open(reviews);
    s.send({ responseNonce: 'x', version: '1' });
    const err = await s.failure();
    expect(err.code).to.equal(grpc.status.INVALID_ARGUMENT);
    expect(err.metadata.get('weft-error-code')).to.deep.equal(['WEFT_ERR_INVALID_ARGUMENT']);
  });
});

describe('Discovery.Stream when the control plane shuts down', () => {
  let dir: string | undefined;
  let cp: RunningControlPlane | undefined;
  const clients: grpc.Client[] = [];

  before(async () => {
    dir = await makeTempDir();
    cp = await startControlPlane({ dataDir: dir, listen: '127.0.0.1:0', http: '127.0.0.1:0', logger: quietLogger, verifyAddress: acceptAnyAddress });
  });

  after(async () => {
    for (const c of clients) c.close();
    await cp?.close();
    await removeDir(dir);
  });

  it('ends open streams with UNAVAILABLE and the WEFT_ERR_CLOSED trailer, so sidecars reconnect with backoff', async () => {
    const running = cp as RunningControlPlane;
    const config = readOperatorConfig(running.operatorConfigPath);
    const admin = makeClient(running, config, 'Admin', operatorCredential(config));
    clients.push(admin);
    const { credential } = await joinAs(running, config, admin, 'reviews');
    const client = makeClient(running, config, 'Discovery', credential);
    clients.push(client);
    const s = new TestDiscoveryStream(client);
    s.announce({ proxyId: 'reviews-1', service: 'reviews' });
    await s.next();
    const closing = running.close();
    const err = await s.failure();
    await closing;
    cp = undefined;
    expect(err.code).to.equal(grpc.status.UNAVAILABLE);
    expect(err.details).to.contain('the control plane is shutting down');
    expect(err.metadata.get('weft-error-code')).to.deep.equal(['WEFT_ERR_CLOSED']);
  });

  it('refuses a stream that opens between close and the server stopping the same way', () => {
    // That window is too short to hit over the network; the service is driven directly.
    const service = new DiscoveryService({ log: quietLogger } as unknown as StreamContext);
    service.close();
    const emitted: Partial<grpc.StatusObject>[] = [];
    const call = { emit: (_event: string, status: Partial<grpc.StatusObject>) => emitted.push(status) > 0 };
    (service.implementation['Stream'] as (call: unknown) => void)(call);
    expect(emitted.map((e) => [e.code, e.details, e.metadata?.get('weft-error-code')])).to.deep.equal([
      [grpc.status.UNAVAILABLE, 'the control plane is shutting down', ['WEFT_ERR_CLOSED']],
    ]);
  });
});

describe('Discovery.Stream: a push waits for the answer to the one before it', () => {
  const ANSWER_WAIT_MS = 1_500;
  let dir: string | undefined;
  let cp: RunningControlPlane | undefined;
  let config: OperatorConfig;
  let admin: grpc.Client;
  let web: ClientCredential;
  const opened = new OpenedStreams();
  let n = 0;

  async function apply(...docs: Record<string, unknown>[]): Promise<ApplyResponse> {
    return unaryCall<ApplyResponse>(admin, 'Apply', { documents: docs.map((d, i) => ({ source: 'test.yaml', index: i + 1, json: JSON.stringify(d) })), dryRun: false });
  }

  /** A stream that has its first snapshot in hand, not yet answered. */
  async function connected(): Promise<{ s: TestDiscoveryStream; first: DiscoveryResponse }> {
    const s = opened.open(makeClient(cp as RunningControlPlane, config, 'Discovery', web));
    s.announce({ proxyId: `web-${++n}`, service: 'web', address: `10.2.0.${n}:15006` });
    return { s, first: await s.next() };
  }

  /** Whatever arrives within `ms` (nothing is an empty list). */
  async function arrivals(s: TestDiscoveryStream, ms: number): Promise<DiscoveryResponse[]> {
    const got: DiscoveryResponse[] = [];
    const until = Date.now() + ms;
    for (;;) {
      const left = until - Date.now();
      if (left <= 0) return got;
      const next = await s.next(left).catch(() => undefined);
      if (!next) return got;
      got.push(next);
    }
  }

  before(async () => {
    dir = await makeTempDir();
    cp = await startControlPlane({ dataDir: dir, listen: '127.0.0.1:0', http: '127.0.0.1:0', pushDebounceMs: 20, pushAnswerWaitMs: ANSWER_WAIT_MS, endpointGraceMs: 60_000, logger: quietLogger, verifyAddress: acceptAnyAddress });
    config = readOperatorConfig(cp.operatorConfigPath);
    admin = opened.client(makeClient(cp, config, 'Admin', operatorCredential(config)));
    web = (await joinAs(cp, config, admin, 'web')).credential;
  });
  afterEach(() => opened.endStreams());
  after(async () => {
    opened.closeAll();
    await cp?.close();
    await removeDir(dir);
  });

  it('changes made while a push is unanswered go out as one push, the newest, when the sidecar ACKs', async () => {
    const { s, first } = await connected();
    // The stream's own endpoint may still be settling into the first versions: let it.
    await arrivals(s, 200);
    await apply(route('web-a', 'web'));
    const b = await apply(route('web-b', 'web'));
    expect(await arrivals(s, 400), 'nothing while the first push is unanswered').to.deep.equal([]);
    s.ack(first);
    const [pushed, ...more] = await arrivals(s, 400);
    expect(more, 'one push for both changes').to.deep.equal([]);
    expect(pushed?.snapshot?.storeRevision).to.equal(b.revision);
    expect(pushed?.snapshot?.resources.map((r) => r.name)).to.include.members(['web-a', 'web-b']);
  });

  it('a NACK releases what waited too', async () => {
    const { s, first } = await connected();
    await arrivals(s, 200);
    const c = await apply(route('web-c', 'web'));
    expect(await arrivals(s, 300)).to.deep.equal([]);
    s.nack(first, '', 'cannot compile');
    const pushed = await s.next(1_000);
    expect(pushed.snapshot?.storeRevision).to.equal(c.revision);
  });

  it('a sidecar that never answers still gets the newest version once the wait is over', async () => {
    const { s } = await connected();
    await arrivals(s, 200);
    const startedAt = Date.now();
    const d = await apply(route('web-d', 'web'));
    const pushed = await s.next(ANSWER_WAIT_MS + 2_000);
    expect(Date.now() - startedAt).to.be.at.least(ANSWER_WAIT_MS - 400);
    expect(pushed.snapshot?.storeRevision).to.equal(d.revision);
  });
});
