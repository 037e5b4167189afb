import { expect } from 'chai';
import { Cancel } from '../../src/layers/cancel';

describe('Cancel', () => {
  it('runs each listener once, in order, with the reason set; a second abort changes nothing', () => {
    const c = new Cancel();
    const seen: string[] = [];
    c.addEventListener('abort', () => seen.push(`a:${String(c.reason)}`));
    c.addEventListener('abort', () => seen.push('b'));
    expect(c.aborted).to.equal(false);
    c.abort('gone');
    c.abort('again');
    expect(c.aborted).to.equal(true);
    expect(c.signal.reason).to.equal('gone');
    expect(seen).to.deep.equal(['a:gone', 'b']);
  });

  it('a removed listener does not run, and one added after the abort is not called back', () => {
    const c = new Cancel();
    let calls = 0;
    const listener = (): void => void (calls += 1);
    c.addEventListener('abort', listener);
    c.removeEventListener('abort', listener);
    c.abort(new Error('x'));
    c.addEventListener('abort', listener);
    expect(calls).to.equal(0);
  });

  it('keeps the order of addition across removals, whichever listener is removed', () => {
    const c = new Cancel();
    const seen: string[] = [];
    const [a, b, d, e] = ['a', 'b', 'd', 'e'].map((name) => (): void => void seen.push(name)) as [() => void, () => void, () => void, () => void];
    c.addEventListener('abort', a);
    c.addEventListener('abort', b);
    c.removeEventListener('abort', a);
    c.addEventListener('abort', d); // after b, although the first slot is free
    c.removeEventListener('abort', b);
    c.addEventListener('abort', e);
    c.addEventListener('abort', a);
    c.abort('x');
    expect(seen).to.deep.equal(['d', 'e', 'a']);
  });
});
