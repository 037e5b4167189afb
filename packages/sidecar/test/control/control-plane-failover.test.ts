import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { recordingLogger, waitFor } from '@weft/harness';
import type { CompiledConfig } from '../../src/config/compiled-config';
import { ControlClient } from '../../src/control/control-client';
import { formatHostPort } from '../../src/control/address';
import { ControlPlaneAddresses } from '../../src/control/control-plane-addresses';
import { IdentityClient } from '../../src/control/identity-client';
import { JoinToken } from '../../src/control/join-token';
import { Watch } from '../../src/watch';
import { FakeControlPlane } from './fake-control-plane';
import { SELF, stubCompile } from './helpers';


describe('several control plane addresses (replicas): the sidecar moves on when one is lost', function () {
  this.timeout(30_000);
  const logger = recordingLogger();
  let a: FakeControlPlane;
  let b: FakeControlPlane;
  let identityClient: IdentityClient | undefined;
  let control: ControlClient | undefined;

  beforeEach(async () => {
    a = await FakeControlPlane.start();
    // Replicas share the mesh CA, as control planes on one etcd do.
    b = await FakeControlPlane.start({ ca: a.ca });
  });
  afterEach(async () => {
    control?.close();
    identityClient?.close();
    await Promise.all([a.stop(), b.stop()]);
  });

  it('parses a comma-separated list and keeps one address fixed', () => {
    const one = ControlPlaneAddresses.parse('127.0.0.1:15012');
    one.failed(one.current);
    expect(one.toString()).to.equal('127.0.0.1:15012');
    expect(one.current).to.deep.equal({ host: '127.0.0.1', port: 15012 });
    const two = ControlPlaneAddresses.parse('cp-a:15012,[::1]:15013');
    two.failed(two.current);
    expect(two.current).to.deep.equal({ host: '::1', port: 15013 });
    expect(() => ControlPlaneAddresses.parse('cp-a:15012,cp-b')).to.throw(/HOST:PORT/);
  });

  it('spreads where sidecars start over the replicas (by proxy id), then fails over round the list from there', () => {
    const three = ControlPlaneAddresses.parse('cp-a:15012,cp-b:15012,cp-c:15012');
    const starts = new Map<string, number>();
    for (let i = 0; i < 3000; i++) {
      const start = formatHostPort(three.spreadBy(randomUUID()).current);
      starts.set(start, (starts.get(start) ?? 0) + 1);
    }
    // 1,000 each expected; 750 is more than 9 standard deviations (about 26) below.
    expect([...starts.keys()].sort()).to.deep.equal(['cp-a:15012', 'cp-b:15012', 'cp-c:15012']);
    for (const [address, count] of starts) expect(count, address).to.be.within(750, 1250);
    // One proxy's start is fixed by its id; the list itself is untouched, and failover wraps round.
    const id = randomUUID();
    const mine = three.spreadBy(id);
    expect(three.spreadBy(id).current).to.deep.equal(mine.current);
    expect(three.current).to.deep.equal({ host: 'cp-a', port: 15012 });
    expect(mine.toString()).to.equal('cp-a:15012,cp-b:15012,cp-c:15012');
    const visited = [mine.current];
    for (let i = 0; i < 3; i++) {
      mine.failed(mine.current);
      visited.push(mine.current);
    }
    expect(new Set(visited.slice(0, 3).map(formatHostPort)).size).to.equal(3);
    expect(visited[3]).to.deep.equal(visited[0]);
    const one = ControlPlaneAddresses.parse('cp-a:15012');
    expect(one.spreadBy(id)).to.equal(one);
  });

  it('joins through the second replica when the first is down, and moves its stream to the other replica when its replica dies', async () => {
    const addresses = new ControlPlaneAddresses([{ host: '127.0.0.1', port: a.port }, { host: '127.0.0.1', port: b.port }]);
    await a.stop();
    const tokenFor = b.tokenFor('orders');
    identityClient = new IdentityClient({ addresses, trustDomain: 'weft.local', spiffeId: SELF.spiffeId, token: JoinToken.parse(tokenFor), bootstrapRootPem: a.ca.rootPem, logger });
    // The first attempt meets the dead replica and moves on; the second signs at b.
    await identityClient.bootstrap().catch(() => identityClient?.bootstrap());
    expect(b.signs.length).to.equal(1);

    await a.restart();
    const config = new Watch<CompiledConfig>();
    control = new ControlClient({
      addresses, trustDomain: 'weft.local', self: SELF, identity: identityClient.identity, config, advertiseAddress: '127.0.0.1:15006',
      proxyVersion: 'test', logger, compile: stubCompile, backoff: { baseMs: 50, capMs: 200 },
    });
    control.start();
    await waitFor('a stream on b', () => b.openStreams === 1);
    await b.stop();
    await waitFor('the stream to move to a', () => a.openStreams === 1 && control?.state.connected === true);
    expect(control.address).to.equal(`127.0.0.1:${a.port}`);
  });
});
