import type { TokenInfo, TokenState } from '@weft/api';
import type { TokenRecord } from '../tokens/token-store';

/** A stored token as the admin API shows it: everything but the secret (not even its hash). */
export function tokenInfo(t: TokenRecord, nowMs: number): TokenInfo {
  return {
    id: t.id,
    spiffeId: t.spiffeId,
    service: t.service,
    namespace: t.namespace,
    createdAtMs: t.createdAtMs,
    expiresAtMs: t.expiresAtMs,
    uses: t.uses,
    maxUses: t.maxUses,
    revokedAtMs: t.revokedAtMs ?? 0,
    rootFingerprint: t.rootFingerprint ?? '',
    state: tokenState(t, nowMs),
  };
}

/** Revoked wins over expired and exhausted: it is the one the operator chose. */
export function tokenState(t: TokenRecord, nowMs: number): TokenState {
  if (t.revokedAtMs) return 'revoked';
  if (nowMs >= t.expiresAtMs) return 'expired';
  if (t.maxUses > 0 && t.uses >= t.maxUses) return 'exhausted';
  return 'valid';
}
