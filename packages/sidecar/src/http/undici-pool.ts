import type { Pool } from 'undici';

/**
 * undici's Pool, loaded with the first pool (to a peer sidecar, or to the local app), not when
 * the sidecar starts. Only the Pool's own files (22, with the HTTP/1.1 client and llhttp): undici's index
 * also loads fetch, WebSocket, the cache and the interceptors (110 files in all), which the
 * sidecar never uses: 12 MB of RSS instead of 20.5, 1.2 MB of heap instead of 4.3
 * (docs/performance.md, "Memory of the client sidecar"). undici 7 has no `exports` map, so the
 * file is reachable; the endpoint-client and scenario tests fail if an upgrade moves it.
 * Only `dispatch` is there: undici's index is what adds `request`, `stream`, `pipeline`,
 * `connect` and `upgrade` to every dispatcher, so `get` hands out a dispatcher typed that way.
 */
export function undiciPool(): typeof Pool {
  return require('undici/lib/dispatcher/pool') as typeof Pool;
}
