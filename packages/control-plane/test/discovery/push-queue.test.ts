import { expect } from 'chai';
import { PushQueue } from '../../src/discovery/push-queue';

describe('PushQueue', () => {
  /** A clock the test moves: a push "takes" whatever the flush adds to it. */
  function clock(): { now: () => number; advance: (ms: number) => void } {
    let t = 1_000;
    return { now: () => t, advance: (ms) => void (t += ms) };
  }

  /** Schedules a push (window 10 ms in these tests) and waits past it. */
  const flushed = async (queue: PushQueue): Promise<void> => {
    queue.schedule();
    await new Promise((r) => setTimeout(r, 40));
  };

  it('coalesces changes within the window into one push', async () => {
    let pushes = 0;
    const queue = new PushQueue(10, () => pushes++);
    for (let i = 0; i < 5; i++) queue.schedule();
    await new Promise((r) => setTimeout(r, 40));
    expect(pushes).to.equal(1);
    queue.close();
  });

  it('spaces pushes by a multiple of the last push duration, and by the window alone when pushes are cheap', async () => {
    const c = clock();
    let cost = 500;
    const queue = new PushQueue(10, () => c.advance(cost), { spacing: 4, now: c.now });
    expect(queue.delayMs).to.equal(10);
    await flushed(queue);
    // The push took 500 ms: the next waits until 4 x 500 ms after it ended.
    expect(queue.delayMs).to.equal(2_000);
    c.advance(1_500);
    expect(queue.delayMs).to.equal(500);
    c.advance(500);
    expect(queue.delayMs).to.equal(10);
    cost = 1;
    await flushed(queue);
    expect(queue.delayMs).to.equal(10);
    queue.close();
  });

  it('pushes nothing after close', async () => {
    let pushes = 0;
    const queue = new PushQueue(5, () => pushes++);
    queue.schedule();
    queue.close();
    await new Promise((r) => setTimeout(r, 20));
    expect(pushes).to.equal(0);
  });
});
