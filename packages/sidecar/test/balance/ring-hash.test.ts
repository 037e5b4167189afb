import { expect } from 'chai';
import { RingHashPicker, hash32 } from '../../src/balance/balance-ring-hash';
import { addr, inputs, seeded } from './fixtures';

const KEYS = Array.from({ length: 10_000 }, (_, i) => `user-${i}`);
const ADDRESSES = ['10.0.0.1:15006', '10.0.0.2:15006', '10.0.0.3:15006', '10.0.0.4:15006'];

function assign(addresses: string[]): Map<string, string> {
  const p = new RingHashPicker(inputs(addresses));
  return new Map(KEYS.map((k) => [k, addr(p.pick(undefined, k))]));
}

describe('balance: ring-hash', () => {
  it('sends a key to the same endpoint every time, whatever the order of the list', () => {
    const a = assign(ADDRESSES);
    const b = assign([...ADDRESSES].reverse());
    for (const k of KEYS.slice(0, 500)) expect(b.get(k)).to.equal(a.get(k));
  });

  it('spreads keys evenly: every endpoint gets 25% +- 5 points', () => {
    const counts = new Map<string, number>();
    for (const e of assign(ADDRESSES).values()) counts.set(e, (counts.get(e) ?? 0) + 1);
    for (const a of ADDRESSES) expect((counts.get(a) ?? 0) / KEYS.length, a).to.be.within(0.2, 0.3);
  });

  it('adding a 5th endpoint moves only about 1/5 of the keys, all of them to the new one', () => {
    const before = assign(ADDRESSES);
    const after = assign([...ADDRESSES, '10.0.0.5:15006']);
    const moved = KEYS.filter((k) => before.get(k) !== after.get(k));
    expect(moved.length / KEYS.length).to.be.within(0.15, 0.25);
    for (const k of moved) expect(after.get(k)).to.equal('10.0.0.5:15006');
  });

  it('moves only the keys of an ejected endpoint, and brings them back when it returns', () => {
    const i = inputs(ADDRESSES);
    const p = new RingHashPicker(i);
    const before = new Map(KEYS.map((k) => [k, addr(p.pick(undefined, k))]));
    i.states[2]!.ejected = true;
    for (const k of KEYS) {
      const now = addr(p.pick(undefined, k));
      if (before.get(k) === ADDRESSES[2]) expect(now).to.not.equal(ADDRESSES[2]);
      else expect(now, k).to.equal(before.get(k));
    }
    i.states[2]!.ejected = false;
    for (const k of KEYS) expect(addr(p.pick(undefined, k))).to.equal(before.get(k));
  });

  it('falls back to a random endpoint for a request without the header', () => {
    const p = new RingHashPicker(inputs(ADDRESSES, { random: seeded(11) }));
    const seen = new Set<string>();
    for (let n = 0; n < 200; n++) seen.add(addr(p.pick()));
    expect(seen.size).to.equal(4);
  });

  it('hashes near-identical strings far apart', () => {
    expect(hash32('a#1')).to.not.equal(hash32('a#2'));
    expect(hash32('')).to.be.a('number');
  });
});
