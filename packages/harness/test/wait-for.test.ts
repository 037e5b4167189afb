import { expect } from 'chai';
import { waitFor } from '../src/wait-for';

describe('waitFor', () => {
  it('resolves with the first answer that is neither undefined nor false', async () => {
    const answers: unknown[] = [undefined, false, 0, 'late'];
    expect(await waitFor('an answer', () => answers.shift() as number | undefined | false)).to.equal(0);
    let calls = 0;
    expect(await waitFor('the third call', () => ++calls >= 3)).to.equal(true);
  });

  it('asks again after the probe throws, and names what it waited for and the last error when time runs out', async () => {
    let calls = 0;
    expect(await waitFor('a server that starts', async () => (++calls < 3 ? Promise.reject(new Error('ECONNREFUSED')) : 'up'))).to.equal('up');
    const err = await waitFor('a server that never starts', () => Promise.reject(new Error('ECONNREFUSED')), 100).then(() => undefined, (e: Error) => e);
    expect(err?.message).to.equal('timed out after 100ms waiting for a server that never starts: ECONNREFUSED');
    const quiet = await waitFor('nothing', () => false, 50).then(() => undefined, (e: Error) => e);
    expect(quiet?.message).to.equal('timed out after 50ms waiting for nothing');
  });
});
