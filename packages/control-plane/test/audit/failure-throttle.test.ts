import { expect } from 'chai';
import { FailureThrottle } from '../../src/audit/failure-throttle';
import { JoinThrottle } from '../../src/audit/join-throttle';
import { ControlPlaneError } from '../../src/errors';

describe('FailureThrottle', () => {
  let now = 0;
  const clock = (): number => now;
  const limits = { maxFailures: 3, windowMs: 10_000, lockoutMs: 30_000, maxKeys: 100 };

  it('locks a key after maxFailures within the window, for lockoutMs, then counts afresh', () => {
    now = 0;
    const t = new FailureThrottle(limits, clock);
    expect([t.fail('a'), t.fail('a')]).to.deep.equal([false, false]);
    expect(t.lockedForMs('a')).to.equal(0);
    expect(t.fail('a')).to.equal(true);
    now = 1_000;
    expect(t.lockedForMs('a')).to.equal(29_000);
    expect(t.lockedForMs('b')).to.equal(0);
    now = 30_000;
    expect(t.lockedForMs('a')).to.equal(0);
    expect(t.fail('a')).to.equal(false);
  });

  it('forgets failures older than the window', () => {
    now = 0;
    const t = new FailureThrottle(limits, clock);
    t.fail('a');
    t.fail('a');
    now = 10_000;
    expect(t.fail('a')).to.equal(false);
  });

  it('holds at most maxKeys keys, forgetting the least recently failed', () => {
    now = 0;
    const t = new FailureThrottle({ ...limits, maxKeys: 5 }, clock);
    for (let i = 0; i < 3; i++) t.fail('kept');
    for (let i = 0; i < 1_000; i++) {
      t.fail(`k${i}`);
      if (i % 3 === 0) t.fail('kept-busy');
    }
    expect(t.size).to.equal(5);
    expect(t.lockedForMs('kept')).to.equal(0);
  });
});

describe('JoinThrottle', () => {
  let now = 0;
  const clock = (): number => now;
  const throttle = (): JoinThrottle =>
    new JoinThrottle({ perToken: { maxFailures: 2, windowMs: 60_000, lockoutMs: 60_000, maxKeys: 10 }, perSource: { maxFailures: 4, windowMs: 60_000, lockoutMs: 60_000, maxKeys: 10 } }, clock);
  const refusal = (fn: () => void): ControlPlaneError | undefined => {
    try {
      fn();
      return undefined;
    } catch (err) {
      return err as ControlPlaneError;
    }
  };

  it('locks a token id out, saying for how long, while other ids from elsewhere go on', () => {
    now = 0;
    const t = throttle();
    t.failed('id1', '10.0.0.1');
    t.failed('id1', '10.0.0.2');
    now = 500;
    const err = refusal(() => t.check('id1', '10.0.0.3'));
    expect(err?.code).to.equal('WEFT_ERR_TOO_MANY_FAILURES');
    expect(err?.retryAfterMs).to.equal(59_500);
    expect(err?.message).to.equal(
      'too many wrong join token secrets for join token id1 (2 within 60s): Identity.Sign with a token is refused for join token id1 for 60s more. Check the token (`weftctl token list` shows its id), then retry after that',
    );
    expect(refusal(() => t.check('id2', '10.0.0.1'))).to.equal(undefined);
  });

  it('locks a source out after failures with many token ids; a success clears only its token id', () => {
    now = 0;
    const t = throttle();
    t.failed('id1', '10.0.0.1');
    t.succeeded('id1');
    for (const id of ['a', 'b', 'c']) t.failed(id, '10.0.0.1');
    expect(refusal(() => t.check('id9', '10.0.0.1'))?.message).to.match(/^too many wrong join token secrets from 10\.0\.0\.1 \(4 within 60s\)/);
    expect(refusal(() => t.check('id1', '10.0.0.2'))).to.equal(undefined);
  });
});
