import { createHash, timingSafeEqual } from 'node:crypto';
import { DEFAULT_NAMESPACE, parseSpiffeId, spiffeId } from '@weft/api';
import { isRecord, readJsonFile } from '../bootstrap/data-dir';
import { JsonFileWriter } from '../bootstrap/json-file-writer';
import { ControlPlaneError } from '../errors';
import { formatJoinToken, newTokenId, newTokenSecret, parseJoinToken } from './join-token';

/** A join token as stored: the secret only as its SHA-256, never in the clear. */
export interface TokenRecord {
  readonly id: string;
  readonly secretSha256: string;
  readonly service: string;
  readonly namespace: string;
  readonly spiffeId: string;
  readonly createdAtMs: number;
  readonly expiresAtMs: number;
  /** 0: no limit within the TTL. */
  readonly maxUses: number;
  uses: number;
  /** 0: not revoked. */
  revokedAtMs?: number;
  /** The root it pins on first contact (absent in tokens.json files from before it was recorded). */
  readonly rootFingerprint?: string;
}

export interface CreateTokenOptions {
  readonly service: string;
  readonly namespace: string;
  readonly ttlMs: number;
  readonly maxUses: number;
}

export interface CreatedToken {
  /** The only place the secret ever appears. */
  readonly token: string;
  readonly id: string;
  readonly expiresAtMs: number;
  readonly spiffeId: string;
}

/** Expired tokens are kept this long so that their use is reported as "expired", not "unknown". */
const KEEP_EXPIRED_MS = 7 * 86_400_000;
/** Compared against when the id is unknown, so that a miss takes as long as a wrong secret. */
const DUMMY_HASH = Buffer.alloc(32);

export class TokenStore {
  readonly #writer: JsonFileWriter;
  readonly #trustDomain: string;
  readonly #rootFingerprint: () => string;
  readonly #now: () => number;
  readonly #tokens = new Map<string, TokenRecord>();

  private constructor(file: string, trustDomain: string, rootFingerprint: () => string, now: () => number) {
    this.#writer = new JsonFileWriter(file);
    this.#trustDomain = trustDomain;
    this.#rootFingerprint = rootFingerprint;
    this.#now = now;
  }

  static async open(
    file: string,
    // A function: a root rotation changes the root that new tokens must pin.
    options: { readonly trustDomain: string; readonly rootFingerprint: string | (() => string); readonly now?: () => number },
  ): Promise<TokenStore> {
    const fingerprint = options.rootFingerprint;
    const store = new TokenStore(file, options.trustDomain, typeof fingerprint === 'string' ? () => fingerprint : fingerprint, options.now ?? Date.now);
    const raw = await readJsonFile(file);
    const list = isRecord(raw) && Array.isArray(raw['tokens']) ? (raw['tokens'] as unknown[]) : [];
    for (const t of list) if (isTokenRecord(t)) store.#tokens.set(t.id, { ...t });
    return store;
  }

  async create(options: CreateTokenOptions): Promise<CreatedToken> {
    const now = this.#now();
    this.#prune(now);
    const id = newTokenId();
    const secret = newTokenSecret();
    const rootFingerprint = this.#rootFingerprint();
    const record: TokenRecord = {
      id,
      secretSha256: sha256(secret).toString('hex'),
      service: options.service,
      namespace: options.namespace,
      spiffeId: spiffeId({ trustDomain: this.#trustDomain, namespace: options.namespace, service: options.service }),
      createdAtMs: now,
      expiresAtMs: now + options.ttlMs,
      maxUses: options.maxUses,
      uses: 0,
      rootFingerprint,
    };
    this.#tokens.set(id, record);
    await this.#save();
    return { token: formatJoinToken({ rootFingerprint, id, secret }), id, expiresAtMs: record.expiresAtMs, spiffeId: record.spiffeId };
  }

  /**
   * Checks a token for a CSR asking for `requestedSpiffeId` and counts one use. Every check runs
   * before the use is counted, so a refused request never spends a use.
   */
  async redeem(token: string, requestedSpiffeId: string): Promise<TokenRecord> {
    const requested = parseSpiffeId(requestedSpiffeId);
    const hint = tokenCreateHint(requested?.service ?? '<service>', requested?.namespace ?? DEFAULT_NAMESPACE);
    const parts = parseJoinToken(token);
    if (!parts) {
      throw new ControlPlaneError('WEFT_ERR_TOKEN_INVALID', `the join token is malformed (expected weft1.<fingerprint>.<id>.<secret>): copy it again, or ${hint}`);
    }
    const record = this.#tokens.get(parts.id);
    const expected = record ? Buffer.from(record.secretSha256, 'hex') : DUMMY_HASH;
    const secretMatches = timingSafeEqual(sha256(parts.secret), expected.length === 32 ? expected : DUMMY_HASH);
    if (!record || !secretMatches) {
      // Unknown id and wrong secret read the same, so the answer does not confirm that an id exists.
      throw new ControlPlaneError('WEFT_ERR_TOKEN_INVALID', `join token ${parts.id} is not valid for this control plane: ${hint}`);
    }
    const reissue = tokenCreateHint(record.service, record.namespace);
    if (record.revokedAtMs) {
      throw new ControlPlaneError('WEFT_ERR_TOKEN_REVOKED', `join token ${record.id} was revoked at ${new Date(record.revokedAtMs).toISOString()}: ${reissue}`);
    }
    if (this.#now() >= record.expiresAtMs) {
      throw new ControlPlaneError('WEFT_ERR_TOKEN_EXPIRED', `join token ${record.id} expired at ${new Date(record.expiresAtMs).toISOString()}: ${reissue}`);
    }
    if (record.spiffeId !== requestedSpiffeId) {
      throw new ControlPlaneError(
        'WEFT_ERR_IDENTITY_MISMATCH',
        `join token ${record.id} is bound to ${record.spiffeId}, but the CSR asks for ${requestedSpiffeId}: a token signs only the identity it was created for`,
      );
    }
    if (record.maxUses > 0 && record.uses >= record.maxUses) {
      throw new ControlPlaneError(
        'WEFT_ERR_TOKEN_EXHAUSTED',
        `join token ${record.id} has been used ${record.uses} time${record.uses === 1 ? '' : 's'}, its limit (--max-uses ${record.maxUses}` +
          `${record.maxUses === 1 ? ', the default: each sidecar joins with its own token' : ''}): ${reissue}`,
      );
    }
    record.uses += 1;
    await this.#save();
    return { ...record };
  }

  list(): readonly TokenRecord[] {
    return [...this.#tokens.values()].map((t) => ({ ...t }));
  }

  /**
   * Makes a token unusable from now on (certificates it already obtained stay valid: remove their
   * proxies for that). Revoking twice keeps the first time. Throws NOT_FOUND for an unknown id.
   */
  async revoke(id: string): Promise<TokenRecord> {
    const record = this.#tokens.get(id);
    if (!record) throw new ControlPlaneError('WEFT_ERR_NOT_FOUND', `no join token ${JSON.stringify(id)}: \`weftctl token list\` shows the ids`);
    if (!record.revokedAtMs) {
      record.revokedAtMs = this.#now();
      await this.#save();
    }
    return { ...record };
  }

  async close(): Promise<void> {
    await this.#writer.flush();
  }

  #prune(now: number): void {
    for (const [id, t] of this.#tokens) if (t.expiresAtMs + KEEP_EXPIRED_MS < now) this.#tokens.delete(id);
  }

  #save(): Promise<void> {
    return this.#writer.write({ formatVersion: 1, tokens: [...this.#tokens.values()] });
  }
}

function tokenCreateHint(service: string, namespace: string): string {
  const ns = namespace === DEFAULT_NAMESPACE ? '' : ` --namespace ${namespace}`;
  return `create a new one with \`weftctl token create --service ${service}${ns}\``;
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

function isTokenRecord(value: unknown): value is TokenRecord {
  if (!isRecord(value)) return false;
  const strings = ['id', 'secretSha256', 'service', 'namespace', 'spiffeId'];
  const numbers = ['createdAtMs', 'expiresAtMs', 'maxUses', 'uses'];
  const optional = (k: string, type: string): boolean => value[k] === undefined || typeof value[k] === type;
  return (
    strings.every((k) => typeof value[k] === 'string') &&
    numbers.every((k) => typeof value[k] === 'number') &&
    optional('revokedAtMs', 'number') &&
    optional('rootFingerprint', 'string')
  );
}
