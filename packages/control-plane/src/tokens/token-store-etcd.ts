import type { Etcd3 } from 'etcd3';
import { ControlPlaneError } from '../errors';
import { storeUnavailable, type WriteGate } from '../store/etcd-client';
import { checkRedeemable, isTokenRecord, KEEP_EXPIRED_MS, newTokenRecord, parseTokenFor, tokenNotFound, type CreatedToken, type CreateTokenOptions, type JoinTokens, type TokenRecord } from './tokens';

/** A use or a revoke that lost a race re-reads the token and tries again this many times. */
const CONFLICT_RETRIES = 10;

/**
 * Join tokens in etcd, one key per token (`<prefix>/tokens/<id>`), shared by every replica. A use
 * is counted with a compare-and-set on the key's mod revision, read fresh from etcd for each
 * redeem (never from a cache), so a single-use token joins exactly one sidecar whichever replicas
 * its uses reach. Expired tokens carry an etcd lease that removes them after the keep period.
 */
export class EtcdTokenStore implements JoinTokens {
  readonly #client: Etcd3;
  readonly #prefix: string;
  readonly #trustDomain: string;
  readonly #rootFingerprint: () => string;
  readonly #now: () => number;

  readonly #health: WriteGate | undefined;

  constructor(client: Etcd3, prefix: string, options: { readonly trustDomain: string; readonly rootFingerprint: () => string; readonly now?: () => number; readonly health?: WriteGate }) {
    this.#health = options.health;
    this.#client = client;
    this.#prefix = prefix;
    this.#trustDomain = options.trustDomain;
    this.#rootFingerprint = options.rootFingerprint;
    this.#now = options.now ?? Date.now;
  }

  async create(options: CreateTokenOptions): Promise<CreatedToken> {
    this.#health?.checkWritable('create the join token');
    const now = this.#now();
    const { record, token } = newTokenRecord(options, this.#trustDomain, this.#rootFingerprint(), now);
    const ttlSeconds = Math.ceil((options.ttlMs + KEEP_EXPIRED_MS) / 1000);
    try {
      const lease = this.#client.lease(ttlSeconds, { autoKeepAlive: false });
      await lease.put(this.#key(record.id)).value(JSON.stringify(record));
    } catch (err) {
      throw storeUnavailable('create the join token', err);
    }
    return { token, id: record.id, expiresAtMs: record.expiresAtMs, spiffeId: record.spiffeId };
  }

  async redeem(token: string, requestedSpiffeId: string): Promise<TokenRecord> {
    const parts = parseTokenFor(token, requestedSpiffeId);
    return this.#update(parts.id, 'redeem the join token', (stored) => {
      const record = checkRedeemable(stored, parts, requestedSpiffeId, this.#now());
      return { ...record, uses: record.uses + 1 };
    });
  }

  async list(): Promise<readonly TokenRecord[]> {
    const res = await this.#client.getAll().prefix(this.#prefix).exec().catch((err: unknown) => {
      throw storeUnavailable('list the join tokens', err);
    });
    return res.kvs.map((kv) => parseRecord(kv.value.toString('utf8'))).filter((r): r is TokenRecord => r !== undefined);
  }

  async revoke(id: string): Promise<TokenRecord> {
    return this.#update(id, 'revoke the join token', (stored) => {
      if (!stored) throw tokenNotFound(id);
      return stored.revokedAtMs ? stored : { ...stored, revokedAtMs: this.#now() };
    });
  }

  async close(): Promise<void> {
    // Nothing buffered: every write was a completed transaction.
  }

  /**
   * Reads the token, computes its next state (`change` throws to refuse), and writes it only if
   * nobody wrote it in between; on a lost race, reads again. The lease is kept.
   */
  async #update(id: string, what: string, change: (stored: TokenRecord | undefined) => TokenRecord): Promise<TokenRecord> {
    this.#health?.checkWritable(what);
    const key = this.#key(id);
    for (let attempt = 0; attempt <= CONFLICT_RETRIES; attempt++) {
      const res = await this.#client.get(key).exec().catch((err: unknown) => {
        throw storeUnavailable(what, err);
      });
      const kv = res.kvs[0];
      const stored = kv ? parseRecord(kv.value.toString('utf8')) : undefined;
      const next = change(stored);
      if (!kv || next === stored) return { ...next };
      const put = this.#client.put(key).value(JSON.stringify(next));
      if (kv.lease !== '0') put.lease(kv.lease);
      const txn = await this.#client.if(key, 'Mod', '==', kv.mod_revision).then(put).commit().catch((err: unknown) => {
        throw storeUnavailable(what, err);
      });
      if (txn.succeeded) return { ...next };
    }
    throw new ControlPlaneError('WEFT_ERR_CONFLICT', `join token ${id} kept changing on other replicas while this one tried to ${what}: try again`);
  }

  #key(id: string): string {
    return `${this.#prefix}${id}`;
  }
}

function parseRecord(text: string): TokenRecord | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return isTokenRecord(value) ? { ...value } : undefined;
  } catch {
    return undefined;
  }
}
