import type { CompiledHeaderOps, CompiledHeaderRules } from '../../config/types';
import type { HeaderMap, Service } from '../../layers/service';

/** What the headers layer reads from its target (a compiled rule). */
export interface HeadersParams {
  readonly headers: CompiledHeaderRules | undefined;
}

export interface HeadersRequest {
  readonly headers: HeaderMap;
}

/**
 * A rule's header changes: on the request before it is sent (every attempt carries them), on the
 * response before the app sees it. The changes were compiled with the config (names lower-cased,
 * mesh-owned and framing headers refused by validation), so this only copies and edits a map.
 * The sidecar's own error answers are not changed: they never reach this layer as a response.
 */
export function headers<R extends HeadersRequest>(params: HeadersParams, next: Service<R>): Service<R> {
  const rules = params.headers;
  if (!rules) return next;
  const { request, response } = rules;
  return (req) => {
    const sent = request ? next({ ...req, headers: applyHeaderOps(req.headers, request) }) : next(req);
    return response ? sent.then((res) => ({ ...res, headers: applyHeaderOps(res.headers, response) })) : sent;
  };
}

/** A copy of `headers` with `ops` applied: remove, then set (replace), then add (append). */
export function applyHeaderOps(headers: HeaderMap, ops: CompiledHeaderOps): HeaderMap {
  const out: HeaderMap = { ...headers };
  for (const name of ops.remove) delete out[name];
  for (const [name, value] of ops.set) out[name] = value;
  for (const [name, value] of ops.add) {
    const existing = out[name];
    out[name] = existing === undefined ? value : [...(typeof existing === 'string' ? [existing] : existing), value];
  }
  return out;
}
