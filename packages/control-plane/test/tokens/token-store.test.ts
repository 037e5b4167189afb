import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { expect } from 'chai';
import { parseJoinToken, TokenStore, type ControlPlaneError } from '../../src/index';
import { makeTempDir, removeDir } from '../helpers/fixtures';

const FINGERPRINT = 'ab'.repeat(32);
const ORDERS = 'spiffe://weft.local/ns/default/sa/orders';

async function codeOf(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (err) {
    return { code: (err as ControlPlaneError).code, message: (err as Error).message };
  }
  throw new Error('expected a failure');
}

describe('TokenStore', () => {
  let dir: string;
  let file: string;
  let now: number;
  let tokens: TokenStore;

  beforeEach(async () => {
    dir = await makeTempDir();
    file = path.join(dir, 'tokens.json');
    now = 1_700_000_000_000;
    tokens = await TokenStore.open(file, { trustDomain: 'weft.local', rootFingerprint: FINGERPRINT, now: () => now });
  });

  afterEach(async () => {
    await tokens.close();
    await removeDir(dir);
  });

  it('creates weft1 tokens that embed the root fingerprint and bind one identity', async () => {
    const created = await tokens.create({ service: 'orders', namespace: 'default', ttlMs: 60_000, maxUses: 0 });
    expect(created.spiffeId).to.equal(ORDERS);
    const parts = parseJoinToken(created.token);
    expect(parts?.rootFingerprint).to.equal(FINGERPRINT);
    expect(parts?.id).to.equal(created.id);
    const record = await tokens.redeem(created.token, ORDERS);
    expect(record.uses).to.equal(1);
  });

  it('refuses another identity, naming both', async () => {
    const { token } = await tokens.create({ service: 'orders', namespace: 'default', ttlMs: 60_000, maxUses: 0 });
    const err = await codeOf(tokens.redeem(token, 'spiffe://weft.local/ns/default/sa/payments'));
    expect(err.code).to.equal('WEFT_ERR_IDENTITY_MISMATCH');
    expect(err.message).to.contain(ORDERS).and.contain('sa/payments');
  });

  it('refuses an expired token, saying when and what to do', async () => {
    const { token } = await tokens.create({ service: 'orders', namespace: 'default', ttlMs: 60_000, maxUses: 0 });
    now += 60_001;
    const err = await codeOf(tokens.redeem(token, ORDERS));
    expect(err.code).to.equal('WEFT_ERR_TOKEN_EXPIRED');
    expect(err.message).to.contain('expired at').and.contain('weftctl token create --service orders');
  });

  it('counts uses and refuses beyond maxUses', async () => {
    const { token } = await tokens.create({ service: 'orders', namespace: 'default', ttlMs: 60_000, maxUses: 2 });
    await tokens.redeem(token, ORDERS);
    await tokens.redeem(token, ORDERS);
    const err = await codeOf(tokens.redeem(token, ORDERS));
    expect(err.code).to.equal('WEFT_ERR_TOKEN_EXHAUSTED');
  });

  it('does not spend a use on a refused request', async () => {
    const { token } = await tokens.create({ service: 'orders', namespace: 'default', ttlMs: 60_000, maxUses: 1 });
    await codeOf(tokens.redeem(token, 'spiffe://weft.local/ns/default/sa/other'));
    expect((await tokens.redeem(token, ORDERS)).uses).to.equal(1);
  });

  it('refuses a wrong secret and an unknown or malformed token alike', async () => {
    const { token } = await tokens.create({ service: 'orders', namespace: 'default', ttlMs: 60_000, maxUses: 0 });
    const parts = parseJoinToken(token);
    const wrong = `weft1.${FINGERPRINT}.${parts?.id}.${'A'.repeat(43)}`;
    expect((await codeOf(tokens.redeem(wrong, ORDERS))).code).to.equal('WEFT_ERR_TOKEN_INVALID');
    const unknown = `weft1.${FINGERPRINT}.${'0'.repeat(16)}.${parts?.secret}`;
    expect((await codeOf(tokens.redeem(unknown, ORDERS))).code).to.equal('WEFT_ERR_TOKEN_INVALID');
    expect((await codeOf(tokens.redeem('not-a-token', ORDERS))).code).to.equal('WEFT_ERR_TOKEN_INVALID');
  });

  it('stores only a hash of the secret, and keeps counting after a reopen', async () => {
    const { token } = await tokens.create({ service: 'orders', namespace: 'default', ttlMs: 60_000, maxUses: 2 });
    await tokens.redeem(token, ORDERS);
    await tokens.close();
    const text = await fs.readFile(file, 'utf8');
    const secret = parseJoinToken(token)?.secret as string;
    expect(text).to.not.contain(secret);
    expect(text).to.not.contain(token);
    expect((await fs.stat(file)).mode & 0o777).to.equal(0o600);
    tokens = await TokenStore.open(file, { trustDomain: 'weft.local', rootFingerprint: FINGERPRINT, now: () => now });
    await tokens.redeem(token, ORDERS);
    expect((await codeOf(tokens.redeem(token, ORDERS))).code).to.equal('WEFT_ERR_TOKEN_EXHAUSTED');
  });
});
