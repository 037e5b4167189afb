import { expect } from 'chai';
import { loadWeftService, parseJoinToken, spiffeId, type DiscoveryResponse } from '@weft/api';
import { Mesh } from '@weft/harness';
import { createCsr, generateKeyPair } from '@weft/pki/workload';
import { fetchTrustAnchor, parseHostPort } from '@weft/sidecar';
import { BenchControlPlane } from '../bench-control-plane/control-plane';
import { grpcFrame, readGrpcMessage, signOverOwnConnection } from '../bench-control-plane/sign-call';
import { histogram, peakShare, percentile, sparkline, spread } from '../bench-control-plane/stats';
import { readResponseHead, revisionOf } from '../bench-control-plane/wire';
import { timesFromIpc } from '../bench-control-plane/fleet';

describe('bench:control-plane arithmetic and wire reading', () => {
  const serialize = loadWeftService('Discovery').service['Stream']?.responseSerialize as (r: DiscoveryResponse) => Buffer;

  it("reads version, nonce and the snapshot's size from what the control plane's serializer writes", () => {
    const snapshot = { meshConfigJson: '{}', resources: [{ kind: 'Route', namespace: 'default', name: 'a', json: '{"x":1}' }], services: [], trustBundlePem: ['PEM'], storeRevision: 7, signingRootFingerprint: 'ab' };
    const bytes = serialize({ version: '7-0a1b2c3d', nonce: 'n0nce', snapshot } as DiscoveryResponse);
    const head = readResponseHead(bytes);
    expect(head).to.include({ version: '7-0a1b2c3d', nonce: 'n0nce', observe: false });
    expect(head.snapshotBytes).to.be.greaterThan(20).and.lessThan(bytes.length);
    expect(revisionOf(head.version)).to.equal(7);
  });

  it('tells a response without a snapshot, and an observe request, apart from a push', () => {
    expect(readResponseHead(serialize({ version: '3-x', nonce: 'n', snapshot: null } as DiscoveryResponse)).snapshotBytes).to.equal(0);
    const observe = readResponseHead(serialize({ version: '', nonce: '', snapshot: null, observe: { id: 'q1' } } as unknown as DiscoveryResponse));
    expect(observe.observe).to.equal(true);
    expect(() => readResponseHead(Buffer.from([0x0a, 0x05, 0x61]))).to.throw(/runs past the end/);
    expect(revisionOf('')).to.be.NaN;
  });

  it('takes nearest-rank percentiles and counts the proxies that never answered', () => {
    const values = [...Array.from({ length: 100 }, (_, i) => i + 1), NaN];
    expect(percentile(values, 50)).to.equal(50);
    expect(percentile(values, 99)).to.equal(99);
    expect(spread(values)).to.deep.equal({ p50: 50, p99: 99, max: 100, missing: 1 });
    expect(percentile([], 50)).to.be.NaN;
  });

  it('buckets reconnect times per 100 ms and finds the bunching', () => {
    const buckets = histogram([0, 50, 99, 100, 250, -3, NaN], 100);
    expect(buckets).to.deep.equal([4, 1, 1]);
    expect(peakShare(buckets)).to.equal(4 / 6);
    expect(histogram([], 100)).to.deep.equal([]);
    expect(sparkline([2, 0, 0, 0, 0, 0, 1, 0, 3])).to.equal('2 (5 x .) 1 . 3');
  });

  it('reads a proxy that never answered as missing, not as time 0 (IPC turns NaN into null)', () => {
    const overIpc = JSON.parse(JSON.stringify([[5, NaN], [7]])) as unknown[];
    const times = timesFromIpc(overIpc);
    expect(times).to.have.length(3);
    expect(spread(times.map((t) => t - 1))).to.deep.equal({ p50: 4, p99: 6, max: 6, missing: 1 });
  });
});

describe('bench:control-plane: Identity.Sign on a connection of its own (sign-call.ts)', function () {
  this.timeout(60_000);
  const mesh = new Mesh();
  const cp = new BenchControlPlane(mesh);
  after(() => mesh.close(10_000));

  it('frames one gRPC message and reads it back; a body that is not one message is refused', () => {
    const message = Buffer.from('hello');
    const frame = grpcFrame(message);
    expect([...frame.subarray(0, 5)]).to.deep.equal([0, 0, 0, 0, 5]);
    expect(readGrpcMessage(frame).toString()).to.equal('hello');
    expect(() => readGrpcMessage(Buffer.concat([frame, frame]))).to.throw(/in a 20-byte body/);
    expect(() => readGrpcMessage(Buffer.from([1, 0, 0, 0, 0]))).to.throw(/compressed/);
  });

  it("gets a certificate from the real control plane with a join token, and the control plane's own error without one", async () => {
    await cp.start();
    const token = await cp.token('web');
    const parsed = parseJoinToken(token);
    const { host, port } = parseHostPort(cp.target);
    const trust = await fetchTrustAnchor({ host, port }, parsed?.rootFingerprint as string);
    const key = generateKeyPair().privateKeyPem;
    const csrPem = createCsr(spiffeId({ trustDomain: trust.trustDomain, namespace: 'default', service: 'web' }), key);
    const signed = await signOverOwnConnection(host, port, trust.trustDomain, trust.rootPem, { csrPem, token, proxyId: 'bench-test-1' }, 10_000);
    expect(signed.spiffeId).to.equal(`spiffe://${trust.trustDomain}/ns/default/sa/web`);
    expect(signed.certificateChainPem.join('')).to.contain('BEGIN CERTIFICATE');
    const refused = await signOverOwnConnection(host, port, trust.trustDomain, trust.rootPem, { csrPem, token: '', proxyId: 'bench-test-2' }, 10_000).then(
      () => undefined,
      (err: Error) => err.message,
    );
    expect(refused, refused).to.match(/gRPC status 16: .*needs a join token on first contact/);
  });
});
