import { expect } from 'chai';
import { recordingLogger } from '@weft/harness';
import { RefusalLog, type Refusal } from '../../src/audit/refusal-log';

const refusal = (source: string, reason = 'WEFT_ERR_TOKEN_INVALID'): Refusal => ({
  rpc: 'Identity.Sign',
  reason,
  source,
  peer: `${source}:40000`,
  tokenId: 'abcd',
  detail: 'join token abcd is not valid for this control plane',
});

describe('RefusalLog', () => {
  let now = 0;
  const clock = (): number => now;

  it('logs the first lines of a (rpc, reason, source), then one summary of the rest when the interval ends', () => {
    now = 1_000;
    const log = recordingLogger();
    const { lines } = log;
    const audit = new RefusalLog(log, { linesPerInterval: 3, intervalMs: 60_000 }, clock);
    for (let i = 0; i < 50; i++) audit.record(refusal('10.0.0.1'));
    audit.record(refusal('10.0.0.2'));
    audit.record(refusal('10.0.0.1', 'WEFT_ERR_TOKEN_EXPIRED'));
    expect(lines.map((l) => [l.msg, l.fields['source'], l.fields['reason']])).to.deep.equal([
      ['refused', '10.0.0.1', 'WEFT_ERR_TOKEN_INVALID'],
      ['refused', '10.0.0.1', 'WEFT_ERR_TOKEN_INVALID'],
      ['refused', '10.0.0.1', 'WEFT_ERR_TOKEN_INVALID'],
      ['refused', '10.0.0.2', 'WEFT_ERR_TOKEN_INVALID'],
      ['refused', '10.0.0.1', 'WEFT_ERR_TOKEN_EXPIRED'],
    ]);
    expect(lines[0]?.fields).to.deep.include({ rpc: 'Identity.Sign', peer: '10.0.0.1:40000', tokenId: 'abcd' });
    now += 60_000;
    audit.record(refusal('10.0.0.1'));
    expect(lines.slice(5).map((l) => [l.msg, l.fields['source'], l.fields['suppressed']])).to.deep.equal([
      ['suppressed 47 similar refusals', '10.0.0.1', 47],
      ['refused', '10.0.0.1', undefined],
    ]);
    audit.close();
  });

  it('writes pending summaries on close', () => {
    const log = recordingLogger();
    const { lines } = log;
    const audit = new RefusalLog(log, { linesPerInterval: 1 }, clock);
    for (let i = 0; i < 4; i++) audit.record(refusal('10.0.0.1'));
    audit.close();
    expect(lines.map((l) => l.msg)).to.deep.equal(['refused', 'suppressed 3 similar refusals']);
  });

  it('keeps at most maxKeys sources apart; the rest share one key, so many addresses cannot flood the log', () => {
    const log = recordingLogger();
    const { lines } = log;
    const audit = new RefusalLog(log, { linesPerInterval: 1, maxKeys: 10 }, clock);
    for (let i = 0; i < 1_000; i++) audit.record(refusal(`10.0.${i >> 8}.${i & 255}`));
    audit.close();
    expect(lines.filter((l) => l.msg === 'refused')).to.have.length(11);
    expect(lines.filter((l) => l.msg !== 'refused').map((l) => [l.msg, l.fields['source']])).to.deep.equal([['suppressed 989 similar refusals', '*']]);
  });
});
