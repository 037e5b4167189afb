import { expect } from 'chai';
import { rotationProgress, type ProxyFacts, type RotationTarget } from '../../src/ca/rotation-progress';

const OLD = 'a'.repeat(64);
const NEW = 'b'.repeat(64);
const NOW = 1_000_000;
const GRACE = 30_000;

function proxy(id: string, facts: { root?: string; acked?: string[]; connected?: boolean; goneMs?: number } = {}): ProxyFacts {
  return {
    node: { proxyId: id, service: 'orders', namespace: 'default', certificateRootFingerprint: facts.root ?? OLD },
    connected: facts.connected ?? true,
    disconnectedAtMs: facts.connected === false ? NOW - (facts.goneMs ?? 0) : 0,
    ackedTrustFingerprints: facts.acked ?? [OLD],
  };
}

const overlap: RotationTarget = { phase: 'overlap', newRootFingerprint: NEW, bundleFingerprints: [OLD, NEW] };
const reissue: RotationTarget = { ...overlap, phase: 'reissue' };
const retire: RotationTarget = { phase: 'retire', newRootFingerprint: NEW, bundleFingerprints: [NEW] };

describe('rotationProgress: what holds a phase up', () => {
  const cases: [string, RotationTarget, ProxyFacts, string][] = [
    ['overlap: not yet ACKed the two-root bundle', overlap, proxy('p1'), 'ACK of the trust bundle with the new root'],
    ['overlap: ACKed (in any order)', overlap, proxy('p1', { acked: [NEW, OLD] }), ''],
    ['reissue: still on an old-root certificate', reissue, proxy('p1', { acked: [OLD, NEW] }), 'a certificate from the new root'],
    ['reissue: on a new-root certificate', reissue, proxy('p1', { acked: [OLD, NEW], root: NEW }), ''],
    ['retire: not yet ACKed the bundle without the old root', retire, proxy('p1', { acked: [OLD, NEW], root: NEW }), 'ACK of the trust bundle without the old root'],
    ['retire: done', retire, proxy('p1', { acked: [NEW], root: NEW }), ''],
    ['disconnected within the grace: still waited for', overlap, proxy('p1', { connected: false, goneMs: 5_000 }), 'ACK of the trust bundle with the new root (disconnected 5s ago; ignored after the endpoint grace)'],
    ['disconnected beyond the grace: not waited for', overlap, proxy('p1', { connected: false, goneMs: GRACE + 1 }), ''],
  ];
  for (const [what, target, facts, waitingFor] of cases) {
    it(what, () => {
      const progress = rotationProgress(target, [facts], { now: NOW, graceMs: GRACE, isRemoved: () => false });
      expect(progress.proxies[0]?.waitingFor).to.equal(waitingFor);
      expect(progress.waitingFor === '').to.equal(waitingFor === '');
    });
  }

  it('never waits for a removed proxy, and names at most three of the rest', () => {
    const many = ['p1', 'p2', 'p3', 'p4', 'p5'].map((id) => proxy(id));
    const progress = rotationProgress(overlap, many, { now: NOW, graceMs: GRACE, isRemoved: (id) => id === 'p5' });
    expect(progress.proxies).to.have.length(4);
    expect(progress.waitingFor).to.match(/^4 proxies: orders\.default \(p1\): .*; orders\.default \(p3\): [^;]*; and 1 more$/);
  });
});
