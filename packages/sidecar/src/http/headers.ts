import { HEADERS } from '@weft/api';
import type { HeaderMap } from '../layers/service';

/**
 * Hop-by-hop headers (RFC 9110 7.6.1) plus `proxy-*` ones: they describe one connection and must
 * not be forwarded. `expect` goes too: Node already answered `100-continue` to the client.
 */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'expect',
  'http2-settings',
]);

const MESH_HEADERS = new Set<string>(Object.values(HEADERS));

/**
 * Copies headers without the hop-by-hop ones (including any that `Connection` names). With
 * `dropMeshHeaders`, the `x-weft-*` headers go too: whatever an app sends must never be able to
 * claim a peer identity, while a peer sidecar's `x-weft-error` on a response is kept.
 */
export function forwardableHeaders(incoming: Readonly<Record<string, string | string[] | undefined>>, dropMeshHeaders: boolean): HeaderMap {
  const named = connectionTokens(incoming['connection']);
  const out: HeaderMap = {};
  for (const name in incoming) {
    const value = incoming[name];
    if (value === undefined || HOP_BY_HOP.has(name) || named?.has(name)) continue;
    if (dropMeshHeaders && MESH_HEADERS.has(name)) continue;
    out[name] = value;
  }
  return out;
}

function connectionTokens(value: string | string[] | undefined): Set<string> | undefined {
  if (value === undefined || value === 'keep-alive' || value === 'close') return undefined; // what nearly every request carries: no split per request
  const text = typeof value === 'string' ? value : value.join(',');
  const tokens = text.split(',').map((t) => t.trim().toLowerCase()).filter((t) => t !== '' && t !== 'close' && t !== 'keep-alive');
  return tokens.length > 0 ? new Set(tokens) : undefined;
}

/**
 * Headers as received on HTTP/2, without the pseudo-headers (`:status`, `:path`, ...), which
 * describe the frame and are rebuilt by whoever writes the message out again.
 */
export function withoutPseudoHeaders(incoming: Readonly<Record<string, string | string[] | undefined>>): HeaderMap {
  const out: HeaderMap = {};
  for (const name in incoming) {
    const value = incoming[name];
    if (value !== undefined && !name.startsWith(':')) out[name] = value;
  }
  return out;
}