import { expect } from 'chai';
import { EndpointStates } from '../../src/balance/endpoint-state';

describe('balance/endpoint-state', () => {
  const config = (...addresses: string[]) => ({ services: new Map([['orders.default', { allEndpoints: addresses.map((address) => ({ address })) }]]) });

  it('gives one state object per address, whichever config version asks', () => {
    const states = new EndpointStates();
    expect(states.get('a')).to.equal(states.get('a'));
  });

  it('forgets endpoints that left the config, unless requests are in flight or an ejection is pending', () => {
    const states = new EndpointStates();
    const busy = states.get('busy');
    busy.inflight = 1;
    states.get('ejected').ejected = true;
    const kept = states.get('kept');
    states.get('gone');
    const v1 = config('kept');
    states.sweep(v1);
    expect(states.size).to.equal(3);
    expect(states.get('busy')).to.equal(busy);
    expect(states.get('kept')).to.equal(kept);
    busy.inflight = 0;
    states.sweep(v1); // the same version again: nothing to do
    expect(states.size).to.equal(3);
    states.sweep(config('kept', 'x'));
    expect(states.size).to.equal(2); // 'busy' is dropped now; 'ejected' waits for its return
  });

  it('forgets an endpoint passive health holds out once it leaves the config, and says so', () => {
    const forgotten: string[] = [];
    const states = new EndpointStates((s) => forgotten.push(s.address));
    const down = states.get('down');
    down.failing = true;
    states.sweep(config());
    expect([states.size, forgotten, down.retired]).to.deep.equal([0, ['down'], true]);
    expect(states.get('down')).to.not.equal(down); // back in a later config: a fresh state
  });
});
