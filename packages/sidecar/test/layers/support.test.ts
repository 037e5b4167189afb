import { expect } from 'chai';
import { backoffDelay } from '../../src/layers/backoff';
import { forwardableHeaders } from '../../src/http/headers';
import { perTarget } from '../../src/layers/per-target';
import { sleep } from '../../src/layers/sleep';

describe('layers/support', () => {
  describe('backoffDelay (full jitter)', () => {
    const policy = { backoffBaseMs: 25, backoffMaxMs: 250 };
    const table: [number, number, number][] = [
      // retry, random, expected ms
      [1, 0.999, 24],
      [2, 0.999, 49],
      [3, 0.5, 50],
      [5, 0.999, 249], // capped at max
      [9, 0.999, 249],
      [1, 0, 0],
    ];
    for (const [retry, r, ms] of table) it(`retry ${retry} with random ${r} -> ${ms}ms`, () => expect(backoffDelay(retry, policy, () => r)).to.equal(ms));
  });

  describe('forwardableHeaders', () => {
    it('drops hop-by-hop headers, those named in Connection, and (for requests) x-weft-*', () => {
      const out = forwardableHeaders(
        {
          host: 'orders',
          connection: 'keep-alive, X-Private',
          'keep-alive': 'timeout=5',
          'x-private': '1',
          'transfer-encoding': 'chunked',
          te: 'trailers',
          upgrade: 'websocket',
          expect: '100-continue',
          'proxy-authorization': 'secret',
          'x-weft-peer-identity': 'spiffe://forged',
          'x-weft-attempts': '9',
          'x-request-id': 'abc',
          'set-cookie': ['a=1', 'b=2'],
        },
        true,
      );
      expect(out).to.deep.equal({ host: 'orders', 'x-request-id': 'abc', 'set-cookie': ['a=1', 'b=2'] });
    });

    it('keeps a peer sidecar x-weft-error on responses', () => {
      expect(forwardableHeaders({ 'x-weft-error': 'WEFT_ERR_APP_UNAVAILABLE' }, false)).to.deep.equal({ 'x-weft-error': 'WEFT_ERR_APP_UNAVAILABLE' });
    });
  });

  it('perTarget builds once per target object', () => {
    let builds = 0;
    const stack = perTarget((t: { id: number }) => ({ id: t.id, n: ++builds }));
    const a = { id: 1 };
    expect(stack(a)).to.equal(stack(a));
    expect(stack({ id: 1 })).to.not.equal(stack(a));
    expect(builds).to.equal(2);
  });

  it('sleep rejects with the abort reason', async () => {
    const c = new AbortController();
    const p = sleep(10_000, c.signal);
    c.abort(new Error('stop'));
    expect(((await p.catch((e: unknown) => e)) as Error).message).to.equal('stop');
  });
});
