import { createHash, timingSafeEqual } from 'node:crypto';
import { DEFAULT_NAMESPACE, parseSpiffeId, spiffeId, type JoinTokenParts } from '@weft/api';
import { isRecord } from '../bootstrap/data-dir';
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

/** Join tokens, wherever they are kept (`tokens.json`, or etcd for replicated control planes). */
export interface JoinTokens {
  create(options: CreateTokenOptions): Promise<CreatedToken>;
  /**
   * Checks a token for a CSR asking for `requestedSpiffeId` and counts one use. Every check runs
   * before the use is counted, so a refused request never spends a use.
   */
  redeem(token: string, requestedSpiffeId: string): Promise<TokenRecord>;
  list(): Promise<readonly TokenRecord[]>;
  /**
   * Makes a token unusable from now on (certificates it already obtained stay valid: remove their
   * proxies for that). Revoking twice keeps the first time. Throws NOT_FOUND for an unknown id.
   */
  revoke(id: string): Promise<TokenRecord>;
  close(): Promise<void>;
}

/** Expired tokens are kept this long so that their use is reported as "expired", not "unknown". */
export const KEEP_EXPIRED_MS = 7 * 86_400_000;
/** Compared against when the id is unknown, so that a miss takes as long as a wrong secret. */
const DUMMY_HASH = Buffer.alloc(32);

/** A new token and its record; the secret leaves only in `token`. */
export function newTokenRecord(options: CreateTokenOptions, trustDomain: string, rootFingerprint: string, now: number): { record: TokenRecord; token: string } {
  const id = newTokenId();
  const secret = newTokenSecret();
  const record: TokenRecord = {
    id,
    secretSha256: sha256(secret).toString('hex'),
    service: options.service,
    namespace: options.namespace,
    spiffeId: spiffeId({ trustDomain, namespace: options.namespace, service: options.service }),
    createdAtMs: now,
    expiresAtMs: now + options.ttlMs,
    maxUses: options.maxUses,
    uses: 0,
    rootFingerprint,
  };
  return { record, token: formatJoinToken({ rootFingerprint, id, secret }) };
}

/** The token's parts, or WEFT_ERR_TOKEN_INVALID when it is malformed. */
export function parseTokenFor(token: string, requestedSpiffeId: string): JoinTokenParts {
  const parts = parseJoinToken(token);
  if (!parts) {
    throw new ControlPlaneError('WEFT_ERR_TOKEN_INVALID', `the join token is malformed (expected weft1.<fingerprint>.<id>.<secret>): copy it again, or ${hintFor(requestedSpiffeId)}`);
  }
  return parts;
}

/** Every check of a redeem, in order; returns the record when one more use is allowed. */
export function checkRedeemable(record: TokenRecord | undefined, parts: JoinTokenParts, requestedSpiffeId: string, now: number): TokenRecord {
  const expected = record ? Buffer.from(record.secretSha256, 'hex') : DUMMY_HASH;
  const secretMatches = timingSafeEqual(sha256(parts.secret), expected.length === 32 ? expected : DUMMY_HASH);
  if (!record || !secretMatches) {
    // Unknown id and wrong secret read the same, so the answer does not confirm that an id exists.
    throw new ControlPlaneError('WEFT_ERR_TOKEN_INVALID', `join token ${parts.id} is not valid for this control plane: ${hintFor(requestedSpiffeId)}`);
  }
  const reissue = tokenCreateHint(record.service, record.namespace);
  if (record.revokedAtMs) {
    throw new ControlPlaneError('WEFT_ERR_TOKEN_REVOKED', `join token ${record.id} was revoked at ${new Date(record.revokedAtMs).toISOString()}: ${reissue}`);
  }
  if (now >= record.expiresAtMs) {
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
  return record;
}

export function tokenNotFound(id: string): ControlPlaneError {
  return new ControlPlaneError('WEFT_ERR_NOT_FOUND', `no join token ${JSON.stringify(id)}: \`weftctl token list\` shows the ids`);
}

function hintFor(requestedSpiffeId: string): string {
  const requested = parseSpiffeId(requestedSpiffeId);
  return tokenCreateHint(requested?.service ?? '<service>', requested?.namespace ?? DEFAULT_NAMESPACE);
}

function tokenCreateHint(service: string, namespace: string): string {
  const ns = namespace === DEFAULT_NAMESPACE ? '' : ` --namespace ${namespace}`;
  return `create a new one with \`weftctl token create --service ${service}${ns}\``;
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

export function isTokenRecord(value: unknown): value is TokenRecord {
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
