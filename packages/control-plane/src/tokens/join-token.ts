import { randomBytes } from 'node:crypto';

// The format is shared with weftctl (which takes a token's id from it), so it lives in @weft/api.
export { JOIN_TOKEN_PREFIX, formatJoinToken, parseJoinToken, type JoinTokenParts } from '@weft/api';

export function newTokenId(): string {
  return randomBytes(8).toString('hex');
}

export function newTokenSecret(): string {
  return randomBytes(32).toString('base64url');
}
