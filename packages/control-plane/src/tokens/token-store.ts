import { readJsonFile, isRecord } from '../bootstrap/data-dir';
import { JsonFileWriter } from '../bootstrap/json-file-writer';
import { checkRedeemable, isTokenRecord, KEEP_EXPIRED_MS, newTokenRecord, parseTokenFor, tokenNotFound, type CreatedToken, type CreateTokenOptions, type JoinTokens, type TokenRecord } from './tokens';

export type { CreatedToken, CreateTokenOptions, JoinTokens, TokenRecord } from './tokens';

/** Join tokens in `tokens.json`, for a control plane that runs alone. */
export class TokenStore implements JoinTokens {
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
    const { record, token } = newTokenRecord(options, this.#trustDomain, this.#rootFingerprint(), now);
    this.#tokens.set(record.id, record);
    await this.#save();
    return { token, id: record.id, expiresAtMs: record.expiresAtMs, spiffeId: record.spiffeId };
  }

  /**
   * Checks a token for a CSR asking for `requestedSpiffeId` and counts one use. Every check runs
   * before the use is counted, so a refused request never spends a use.
   */
  async redeem(token: string, requestedSpiffeId: string): Promise<TokenRecord> {
    const parts = parseTokenFor(token, requestedSpiffeId);
    const record = checkRedeemable(this.#tokens.get(parts.id), parts, requestedSpiffeId, this.#now());
    record.uses += 1;
    await this.#save();
    return { ...record };
  }

  async list(): Promise<readonly TokenRecord[]> {
    return [...this.#tokens.values()].map((t) => ({ ...t }));
  }

  /**
   * Makes a token unusable from now on (certificates it already obtained stay valid: remove their
   * proxies for that). Revoking twice keeps the first time. Throws NOT_FOUND for an unknown id.
   */
  async revoke(id: string): Promise<TokenRecord> {
    const record = this.#tokens.get(id);
    if (!record) throw tokenNotFound(id);
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
    // Built when the write begins, once for every redeem that rides along with it.
    return this.#writer.writeLatest(() => ({ formatVersion: 1, tokens: [...this.#tokens.values()] }));
  }
}

