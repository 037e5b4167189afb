import { expect } from 'chai';
import { RetryBudget } from '../../src/layers/retry-budget';

describe('layers/retry-budget', () => {
  const budget = (percent: number, minRetriesPerSecond: number) => ({ percent, minRetriesPerSecond });

  it('allows percent of the requests as retries', () => {
    const b = new RetryBudget();
    for (let i = 0; i < 100; i++) b.deposit(0);
    let allowed = 0;
    while (b.withdraw(budget(20, 0), 0)) allowed++;
    expect(allowed).to.equal(20);
  });

  it('adds minRetriesPerSecond as a rate: one second worth at most, refilled over time', () => {
    const b = new RetryBudget();
    const take = (t: number): number => {
      let n = 0;
      while (b.withdraw(budget(0, 5), t)) n++;
      return n;
    };
    expect(take(0)).to.equal(5);
    expect(take(400)).to.equal(2);
    expect(take(10_000)).to.equal(5); // refilled, but never above one second's worth
  });

  it('forgets requests older than the ~10 s window', () => {
    const b = new RetryBudget();
    for (let i = 0; i < 50; i++) b.deposit(0);
    expect(b.withdraw(budget(10, 0), 5_000)).to.equal(true);
    expect(b.withdraw(budget(10, 0), 10_500)).to.equal(false); // the slot of t=0 has left the window
    // 20 new requests earn 2 retries; the one made at 5 s is still in the window.
    for (let i = 0; i < 20; i++) b.deposit(10_500);
    expect(b.withdraw(budget(10, 0), 10_500)).to.equal(true);
    expect(b.withdraw(budget(10, 0), 10_500)).to.equal(false);
  });

  it('bounds a retry storm: retries <= percent x requests + minRetriesPerSecond x seconds', () => {
    const b = new RetryBudget();
    let requests = 0;
    let retries = 0;
    // 200 requests a second for 30 s, every one failing and wanting 3 retries.
    for (let t = 0; t < 30_000; t += 5) {
      b.deposit(t);
      requests++;
      for (let r = 0; r < 3 && b.withdraw(budget(20, 10), t); r++) retries++;
    }
    expect(retries).to.be.at.most(0.2 * requests + 10 * 31);
    expect(retries).to.be.at.least(0.2 * requests * 0.9);
  });

  it('applies a changed percent at once, to the requests already counted', () => {
    const b = new RetryBudget();
    for (let i = 0; i < 10; i++) b.deposit(0);
    expect(b.withdraw(budget(0, 0), 0)).to.equal(false);
    expect(b.withdraw(budget(50, 0), 0)).to.equal(true);
  });
});
