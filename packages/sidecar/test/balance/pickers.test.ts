import { expect } from 'chai';
import { RandomPicker } from '../../src/balance/balance-random';
import { RoundRobinPicker } from '../../src/balance/balance-round-robin';
import type { PickResult } from '../../src/balance/picker';
import { isBalancerName, pickerFactory } from '../../src/balance/registry';

const eps = (...addresses: string[]) => addresses.map((address) => ({ address, proxyId: address, labels: {} }));
const addr = (r: PickResult): string => (r.kind === 'endpoint' ? r.endpoint.address : r.kind);

describe('balance pickers', () => {
  it('round robin cycles from its start offset', () => {
    const p = new RoundRobinPicker(eps('a', 'b', 'c'), () => 0.5); // starts at index 1
    expect([0, 1, 2, 3].map(() => addr(p.pick()))).to.deep.equal(['b', 'c', 'a', 'b']);
  });

  it('round robin skips the avoided endpoint when there is another', () => {
    const p = new RoundRobinPicker(eps('a', 'b'), () => 0);
    expect(addr(p.pick('a'))).to.equal('b');
    expect(addr(new RoundRobinPicker(eps('a'), () => 0).pick('a'))).to.equal('a');
  });

  it('random draws among the others when avoiding one', () => {
    const rolls = [0.1, 0.0];
    const p = new RandomPicker(eps('a', 'b', 'c'), () => rolls.shift() ?? 0);
    expect(addr(p.pick('a'))).to.equal('b');
  });

  it('fail with no endpoints', () => {
    expect(new RoundRobinPicker([]).pick()).to.deep.equal({ kind: 'fail', reason: 'no-endpoints' });
    expect(new RandomPicker([]).pick()).to.deep.equal({ kind: 'fail', reason: 'no-endpoints' });
  });

  it('are registered by name', () => {
    expect(isBalancerName('round-robin')).to.equal(true);
    expect(isBalancerName('ring-hash')).to.equal(false);
    expect(pickerFactory('random')(eps('a')).pick().kind).to.equal('endpoint');
  });
});
