import { expect } from 'chai';
import type { ObserveReply, ObserveRequest } from '@weft/api';
import { ObserveHub, type ObservableProxy } from '../../src/discovery/observe-hub';

/** A proxy that answers (or not) as told; `sent` is what reached it. */
function proxy(proxyId: string, answer: ((req: ObserveRequest) => ObserveReply | undefined) | 'old', hub: () => ObserveHub): ObservableProxy & { sent: ObserveRequest[] } {
  const sent: ObserveRequest[] = [];
  return {
    proxyId, service: proxyId, namespace: 'default', sent,
    observe(req) {
      if (answer === 'old') return false;
      sent.push(req);
      const reply = answer(req);
      if (reply) setImmediate(() => hub().deliver(proxyId, reply));
      return true;
    },
  };
}

describe('discovery/observe-hub', () => {
  it('asks every proxy that can answer, waits up to the deadline, and says which did not answer and why', async () => {
    let hub: ObserveHub | undefined;
    const proxies = [
      proxy('a', (req) => ({ id: req.id, stat: { windowMs: 1, traffic: [], tcp: [] } }), () => hub as ObserveHub),
      proxy('b', () => undefined, () => hub as ObserveHub),
      proxy('c', 'old', () => hub as ObserveHub),
      proxy('d', (req) => ({ id: req.id, error: 'bad filter' }), () => hub as ObserveHub),
    ];
    hub = new ObserveHub(() => proxies);
    const startedAt = Date.now();
    const { replies, proxies: answers } = await hub.gather({ stat: { windowMs: 60_000 } }, 200);
    expect(Date.now() - startedAt).to.be.at.least(150);
    expect([...replies.keys()]).to.deep.equal(['a']);
    expect(answers.map((a) => [a.proxyId, a.state, a.error])).to.deep.equal([['a', 'ok', ''], ['b', 'no-answer', ''], ['c', 'unsupported', ''], ['d', 'error', 'bad filter']]);
    // A late reply for a finished question is dropped.
    hub.deliver('b', { id: proxies[1]?.sent[0]?.id as string, stat: null });
  });

  it('returns as soon as every proxy answered, and sends nothing when nobody asks', async () => {
    let hub: ObserveHub | undefined;
    const a = proxy('a', (req) => ({ id: req.id, edges: [] }), () => hub as ObserveHub);
    hub = new ObserveHub(() => [a]);
    expect(a.sent).to.deep.equal([]);
    const startedAt = Date.now();
    await hub.gather({ edges: true }, 10_000);
    expect(Date.now() - startedAt).to.be.below(5_000);
    expect(a.sent).to.have.length(1);
  });

  it('relays a tap until stopped, then tells each tapped proxy to stop', () => {
    let hub: ObserveHub | undefined;
    const a = proxy('a', () => undefined, () => hub as ObserveHub);
    const old = proxy('old', 'old', () => hub as ObserveHub);
    hub = new ObserveHub(() => [a, old]);
    const got: string[] = [];
    const tap = hub.openTap({ filter: null, maxRps: 0, durationMs: 1000 }, (proxyId, reply) => got.push(`${proxyId}:${reply.tapEvents?.length ?? 0}`));
    expect(tap.proxies.map((p) => [p.proxyId, p.state])).to.deep.equal([['a', 'ok'], ['old', 'unsupported']]);
    const id = a.sent[0]?.id as string;
    hub.deliver('a', { id, tapEvents: [] });
    tap.stop();
    hub.deliver('a', { id, tapEvents: [] });
    expect(got).to.deep.equal(['a:0']);
    expect(a.sent.map((r) => (r.tapStop ? 'stop' : 'start'))).to.deep.equal(['start', 'stop']);
  });
});
