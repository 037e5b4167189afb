import { expect } from 'chai';
import { LeastRequestPicker } from '../../src/balance/balance-least-request';
import { RandomPicker } from '../../src/balance/balance-random';
import { RoundRobinPicker } from '../../src/balance/balance-round-robin';
import { RingHashPicker } from '../../src/balance/balance-ring-hash';
import type { Picker, PickerInputs } from '../../src/balance/picker';
import { buildPicker, isBalancerName, parseBalancer } from '../../src/balance/registry';
import { addr, inputs, seeded } from './fixtures';

const ALL: [string, (i: PickerInputs) => Picker][] = [
  ['round-robin', (i) => new RoundRobinPicker(i)],
  ['random', (i) => new RandomPicker(i)],
  ['least-request', (i) => new LeastRequestPicker(i)],
  ['ring-hash', (i) => new RingHashPicker(i)],
];

describe('balance pickers', () => {
  it('round robin cycles from its start offset', () => {
    const p = new RoundRobinPicker(inputs(['a', 'b', 'c'], { rolls: [0.5] })); // starts at index 1
    expect([0, 1, 2, 3].map(() => addr(p.pick()))).to.deep.equal(['b', 'c', 'a', 'b']);
  });

  it('random draws among the others when avoiding one', () => {
    const p = new RandomPicker(inputs(['a', 'b', 'c'], { rolls: [0.1] }));
    expect(addr(p.pick('a'))).to.equal('b');
  });

  it('least request (P2C) sends to the less loaded of the two it draws', () => {
    const i = inputs(['a', 'b', 'c'], { rolls: [0, 0.99] }); // draws a, then c
    i.states[0]!.inflight = 5;
    i.states[2]!.inflight = 1;
    expect(addr(new LeastRequestPicker(i).pick())).to.equal('c');
  });

  it('least request sends most requests away from a loaded endpoint over many picks', () => {
    const i = inputs(['a', 'b', 'c', 'd'], { random: seeded(1) });
    i.states[0]!.inflight = 10; // a is busy; b, c, d are idle
    const p = new LeastRequestPicker(i);
    let toA = 0;
    for (let n = 0; n < 4000; n++) if (addr(p.pick()) === 'a') toA++;
    // a wins only when both draws are a, which P2C never does (distinct draws): never.
    expect(toA).to.equal(0);
    i.states[0]!.inflight = 0;
    for (let n = 0; n < 4000; n++) if (addr(p.pick()) === 'a') toA++;
    expect(toA / 4000).to.be.within(0.2, 0.3);
  });

  for (const [name, make] of ALL) {
    describe(name, () => {
      it('never picks the endpoint that just failed when two others are available', () => {
        const p = make(inputs(['a', 'b', 'c'], { random: seeded(7) }));
        for (let n = 0; n < 300; n++) expect(addr(p.pick('b', `key-${n}`))).to.not.equal('b');
      });

      it('picks the failed endpoint again when it is the only one', () => {
        expect(addr(make(inputs(['a'])).pick('a', 'k'))).to.equal('a');
      });

      it('skips ejected endpoints', () => {
        const i = inputs(['a', 'b', 'c'], { random: seeded(3) });
        i.states[1]!.ejected = true;
        const p = make(i);
        for (let n = 0; n < 300; n++) expect(addr(p.pick(undefined, `key-${n}`))).to.not.equal('b');
      });

      it('ignores ejection when every endpoint is ejected (panic), rather than failing', () => {
        const i = inputs(['a', 'b'], { random: seeded(3) });
        i.states[0]!.ejected = true;
        i.states[1]!.ejected = true;
        expect(['a', 'b']).to.include(addr(make(i).pick(undefined, 'k')));
      });

      it('skips an endpoint passive health took out, with or without outlier detection', () => {
        const i = inputs(['a', 'b', 'c'], { random: seeded(3), skipEjected: false });
        i.states[1]!.failing = true;
        i.states[2]!.ejected = true; // outlier detection is off for this backend: ejection does not count
        const p = make(i);
        const seen = new Set<string>();
        for (let n = 0; n < 300; n++) seen.add(addr(p.pick(undefined, `key-${n}`)));
        expect([...seen].sort()).to.deep.equal(['a', 'c']);
      });

      it('tries every endpoint when none is healthy (panic), failing and ejected alike', () => {
        const i = inputs(['a', 'b'], { random: seeded(3) });
        i.states[0]!.failing = true;
        i.states[1]!.ejected = true;
        const p = make(i);
        expect(['a', 'b']).to.include(addr(p.pick(undefined, 'k')));
        expect(addr(p.pick('a', 'k'))).to.equal('b');
      });

      it('says queue when every healthy endpoint is at maxConnections, and skips full ones otherwise', () => {
        const i = inputs(['a', 'b'], { random: seeded(5), maxConnections: 2 });
        i.states[0]!.inflight = 2;
        const p = make(i);
        for (let n = 0; n < 50; n++) expect(addr(p.pick(undefined, `key-${n}`))).to.equal('b');
        i.states[1]!.inflight = 2;
        expect(addr(p.pick(undefined, 'k'))).to.equal('queue');
      });

      it('fails with no endpoints', () => {
        expect(make(inputs([])).pick()).to.deep.equal({ kind: 'fail', reason: 'no-endpoints' });
      });
    });
  }

  describe('registry', () => {
    it('knows every balancer a ServicePolicy may name, and parses its settings', () => {
      for (const name of ['round-robin', 'random', 'least-request', 'ring-hash']) expect(isBalancerName(name), name).to.equal(true);
      expect(isBalancerName('maglev')).to.equal(false);
      expect(parseBalancer(undefined)).to.deep.equal({ name: 'round-robin' });
      expect(parseBalancer({ algorithm: 'ring-hash', hashHeader: 'X-User' })).to.deep.equal({ name: 'ring-hash', hashHeader: 'x-user' });
      expect(() => parseBalancer({ algorithm: 'ring-hash' })).to.throw('hashHeader');
    });

    it('builds the picker its compiled balancer names', () => {
      expect(buildPicker({ name: 'least-request' }, inputs(['a']))).to.be.instanceOf(LeastRequestPicker);
      expect(buildPicker({ name: 'ring-hash', hashHeader: 'x' }, inputs(['a']))).to.be.instanceOf(RingHashPicker);
    });
  });
});
