import { expect } from 'chai';
import { inspect } from 'node:util';
import { ControlError } from '../../src/control/errors';
import { JoinToken } from '../../src/control/join-token';

const FP = 'ab'.repeat(32);
const SECRET = 's3cr3t-VALUE_xyz';

describe('JoinToken', () => {
  it('parses weft1.<fingerprint>.<id>.<secret>', () => {
    const token = JoinToken.parse(`  weft1.${FP.toUpperCase()}.abc123.${SECRET}\n`);
    expect(token.rootFingerprint).to.equal(FP);
    expect(token.id).to.equal('abc123');
    expect(token.reveal()).to.equal(`weft1.${FP}.abc123.${SECRET}`);
  });

  it('never prints the secret', () => {
    const token = JoinToken.parse(`weft1.${FP}.abc123.${SECRET}`);
    for (const text of [String(token), JSON.stringify({ token }), inspect(token), `${token}`]) {
      expect(text).not.to.include(SECRET);
      expect(text).to.include('<redacted>');
    }
  });

  const cases: [string, string, RegExp][] = [
    ['empty', '   ', /is empty/],
    ['wrong prefix', `weft2.${FP}.abc.${SECRET}`, /does not start with "weft1\."/],
    ['missing secret field', `weft1.${FP}.abc`, /3 dot-separated fields instead of 4/],
    ['extra field', `weft1.${FP}.abc.${SECRET}.more`, /5 dot-separated fields/],
    ['short fingerprint', `weft1.abcd.abc.${SECRET}`, /fingerprint \(field 2\) must be 64 hex characters, got 4/],
    ['non-hex fingerprint', `weft1.${'zz'.repeat(32)}.abc.${SECRET}`, /fingerprint/],
    ['empty id', `weft1.${FP}..${SECRET}`, /id \(field 3\)/],
    ['empty secret', `weft1.${FP}.abc.`, /secret \(field 4\)/],
    ['whitespace in secret', `weft1.${FP}.abc.${SECRET} x`, /secret \(field 4\)/],
  ];
  for (const [name, text, message] of cases) {
    it(`rejects a token with ${name}, without echoing the secret`, () => {
      let caught: unknown;
      try {
        JoinToken.parse(text);
      } catch (err) {
        caught = err;
      }
      expect(caught).to.be.instanceOf(ControlError);
      const err = caught as ControlError;
      expect(err.code).to.equal('WEFT_ERR_BAD_TOKEN');
      expect(err.message).to.match(message);
      expect(err.message).not.to.include(SECRET);
    });
  }
});
