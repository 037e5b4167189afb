export const JOIN_TOKEN_PREFIX = 'weft1';

/** `weft1.<root-sha256-hex>.<id>.<secret-base64url>` taken apart. */
export interface JoinTokenParts {
  /** The root the sidecar pins on first contact; the control plane does not need it. */
  readonly rootFingerprint: string;
  /** Public part: names the token in logs, in `tokens.json` and in `weftctl token list`. */
  readonly id: string;
  /** Private part: only its SHA-256 is stored. */
  readonly secret: string;
}

/** A token's public id: 16 hex characters. */
export const JOIN_TOKEN_ID_RE = /^[0-9a-f]{16}$/;
const TOKEN_RE = /^weft1\.([0-9a-f]{64})\.([0-9a-f]{16})\.([A-Za-z0-9_-]{32,})$/;

/** Parses a join token as `weftctl token create` prints it; undefined when it is not one. */
export function parseJoinToken(text: string): JoinTokenParts | undefined {
  const m = TOKEN_RE.exec(text.trim());
  if (!m) return undefined;
  return { rootFingerprint: m[1] as string, id: m[2] as string, secret: m[3] as string };
}

export function formatJoinToken(parts: JoinTokenParts): string {
  return `${JOIN_TOKEN_PREFIX}.${parts.rootFingerprint}.${parts.id}.${parts.secret}`;
}
