import type { Destination } from '../../config/types';
import type { IdentityMaterial } from '../../control/identity-material';
import { H2Connection, type H2StreamOpener } from '../../http/h2-connection';
import type { Watch } from '../../watch';
import { ConnectionCache } from './connection-cache';
import { tlsClientOptions } from './tls-originate';

/** Connect timeout when the ServicePolicy gives none (`connectionPool.connectTimeout`). */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
/** An HTTP/2 session with no frames for this long is closed (GOAWAY) when the policy says nothing. */
const DEFAULT_IDLE_TIMEOUT_MS = 60_000;

/** Where HTTP/2 sessions to peer sidecars come from (H2Sessions in production). */
export interface H2SessionSource {
  session(endpoint: string, destination: Destination): H2StreamOpener;
}

/**
 * HTTP/2 to peer sidecars: multiplexed sessions per endpoint and expected identity (see H2Connection), over mTLS
 * with ALPN `h2` and the same identity pinning as HTTP/1.1 (see tls-originate), retired when the
 * certificate renews (see ConnectionCache): streams in flight finish, new requests open new sessions.
 */
export class H2Sessions implements H2SessionSource {
  readonly #cache: ConnectionCache<H2Connection>;

  constructor(identity: Watch<IdentityMaterial>) {
    this.#cache = new ConnectionCache(
      identity,
      (material, endpoint, destination) =>
        new H2Connection({
          authority: `https://${endpoint}`,
          tls: tlsClientOptions(material, destination, endpoint),
          connectTimeoutMs: destination.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
          idleTimeoutMs: destination.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
        }),
    );
  }

  /** Where streams to an endpoint of a destination open; throws NotReadyError before the first certificate. */
  session(endpoint: string, destination: Destination): H2StreamOpener {
    return this.#cache.get(endpoint, destination);
  }

  retain(liveEndpoints: ReadonlySet<string>): void {
    this.#cache.retain(liveEndpoints);
  }

  close(force: boolean): Promise<void> {
    return this.#cache.close(force);
  }
}
