import { randomBytes } from 'node:crypto';

export const JOIN_TOKEN_PREFIX = 'weft1';

/** `weft1.<root-sha256-hex>.<id>.<secret-base64url>` taken apart. */
export interface JoinTokenParts {
  /** The root the sidecar pins on first contact; the control plane does not need it. */
  readonly rootFingerprint: string;
  /** Public part: names the token in logs and in `tokens.json`. */
  readonly id: string;
  /** Private part: only its SHA-256 is stored. */
  readonly secret: string;
}

const TOKEN_RE = /^weft1\.([0-9a-f]{64})\.([0-9a-f]{16})\.([A-Za-z0-9_-]{32,})$/;

export function newTokenId(): string {
  return randomBytes(8).toString('hex');
}

export function newTokenSecret(): string {
  return randomBytes(32).toString('base64url');
}

export function formatJoinToken(parts: JoinTokenParts): string {
  return `${JOIN_TOKEN_PREFIX}.${parts.rootFingerprint}.${parts.id}.${parts.secret}`;
}

export function parseJoinToken(text: string): JoinTokenParts | undefined {
  const m = TOKEN_RE.exec(text.trim());
  if (!m) return undefined;
  return { rootFingerprint: m[1] as string, id: m[2] as string, secret: m[3] as string };
}
