import type { X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import type { buildConnector } from 'undici';
import type { Destination } from '../../config/types';
import type { IdentityMaterial } from '../../control/identity-material';
import { PeerIdentityError } from '../../layers/errors';
import { checkPeerIdentity, tlsClientOptions } from './tls-originate';

/** A TLS session a peer sidecar issued, and the certificate that peer proved on the connection that carried it. */
export interface PeerSession {
  readonly session: Buffer;
  readonly peer: X509Certificate;
}

/**
 * The session a connector offers next: the latest one (a TLS 1.3 server sends fresh tickets on
 * every connection, resumed ones too). One per pool, that is per endpoint, expected identity and
 * certificate of ours (ConnectionCache), so a renewal or a new trust bundle starts afresh.
 */
export class PeerSessions {
  latest: PeerSession | undefined;
}

/**
 * undici's connector (connect timeout, keep-alive, no Nagle), loaded alone as the Pool is
 * (http/undici-pool.ts). It takes a session only when built, so one is built per new connection:
 * a small object, next to a TLS handshake.
 */
function undiciConnector(): typeof buildConnector {
  return require('undici/lib/core/connect') as typeof buildConnector;
}

/**
 * Connects to a peer sidecar with TLS session resumption, and the peer's identity pinned on every
 * connection. A full handshake checks the identity in `checkServerIdentity` (tls-originate.ts).
 * Node skips that check on a resumed session, and its client shows no peer certificate then, so
 * each session is kept with the certificate proven on the connection that received it: a resumed
 * connection can only be completed by the holder of the ticket key that issued the session, that
 * is the peer that proved that certificate. On resumption that certificate is checked again
 * against the expected identity and for expiry (a resumed session must not outlive it); one that
 * fails is dropped and the connection made afresh with a full handshake, which has the last word.
 * Resumption spares both sides the certificate exchange and its signatures (see
 * docs/performance.md, "The latency tail").
 */
export function peerConnector(material: IdentityMaterial, destination: Destination, endpoint: string, timeoutMs: number, sessions = new PeerSessions()): buildConnector.connector {
  const build = undiciConnector();
  const base: buildConnector.BuildOptions = { ...tlsClientOptions(material, destination, endpoint), timeout: timeoutMs, maxCachedSessions: 0 };
  const connect = (options: buildConnector.Options, callback: buildConnector.Callback, offered: PeerSession | undefined): void => {
    // Tickets may arrive before the handshake is reported complete: held until the peer is proven.
    let proven: X509Certificate | undefined;
    const early: Buffer[] = [];
    const socket = build(offered ? { ...base, session: offered.session } : base)(options, (...args) => {
      if (args[0]) return callback(args[0], null);
      const resumed = socket.isSessionReused();
      const peer = resumed ? offered?.peer : socket.getPeerX509Certificate();
      const refused = peer === undefined ? new PeerIdentityError(destination.spiffeId, [], endpoint) : refusal(peer, destination.spiffeId, endpoint);
      if (refused === undefined && peer !== undefined) {
        proven = peer;
        const last = early.at(-1);
        if (last) sessions.latest = { session: last, peer };
        callback(null, socket);
        return;
      }
      socket.destroy();
      if (offered === undefined || !resumed) return callback(refused ?? new PeerIdentityError(destination.spiffeId, [], endpoint), null);
      // A resumed session that no longer proves the peer: drop it, and let a full handshake decide.
      if (sessions.latest === offered) sessions.latest = undefined;
      connect(options, callback, undefined);
    }) as unknown as TLSSocket; // undici's connector returns the socket it made (its typings say void)
    socket.on('session', (session: Buffer) => {
      if (proven) sessions.latest = { session, peer: proven };
      else early.push(session);
    });
  };
  return (options, callback) => connect(options, callback, sessions.latest);
}

/** Why a certificate no longer proves the expected identity (another identity, or expired), or undefined. */
function refusal(peer: X509Certificate, expected: string, endpoint: string): Error | undefined {
  const other = checkPeerIdentity(peer.subjectAltName, expected, endpoint);
  if (other) return other;
  return Date.parse(peer.validTo) > Date.now() ? undefined : new Error(`the certificate of the sidecar at ${endpoint} expired at ${peer.validTo}`);
}
