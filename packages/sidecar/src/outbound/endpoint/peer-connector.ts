import type { X509Certificate } from 'node:crypto';
import type { NetConnectOpts } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import type { Destination } from '../../config/types';
import type { IdentityMaterial } from '../../control/identity-material';
import { PeerIdentityError } from '../../layers/errors';
import { connectWithin } from '../../http1/connect-within';
import { ConnectionReads } from '../../http1/connection-reads';
import type { Connect } from '../../http1/pool';
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

/** No TLS connection to the peer within the connect timeout. */
export class PeerConnectTimeoutError extends Error {
  readonly code = 'WEFT_CONNECT_TIMEOUT';
  constructor(endpoint: string, ms: number) {
    super(`no connection to ${endpoint} within ${ms} ms`);
  }
}

/** How often a kept-alive connection is probed by TCP when it carries nothing (dead peers are found). */
const TCP_KEEP_ALIVE_MS = 60_000;

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
 * docs/performance.md, "The latency tail"). The timeout covers TCP and TLS together.
 */
export function peerConnector(material: IdentityMaterial, destination: Destination, endpoint: string, timeoutMs: number, sessions = new PeerSessions()): Connect {
  const colon = endpoint.lastIndexOf(':');
  const host = endpoint.slice(0, colon).replace(/^\[|\]$/g, '');
  const base: ConnectionOptions = { ...tlsClientOptions(material, destination, endpoint), host, port: Number(endpoint.slice(colon + 1)) };
  const connect = (callback: Parameters<Connect>[0], offered: PeerSession | undefined): void => {
    // Tickets may arrive before the handshake is reported complete: held until the peer is proven.
    let proven: X509Certificate | undefined;
    const early: Buffer[] = [];
    const reads = new ConnectionReads();
    // `onread` is honoured by tls.connect (Node's docs), missing from its types.
    const options: ConnectionOptions & Pick<NetConnectOpts, 'onread'> = { ...base, onread: reads.onread };
    const socket = tlsConnect(offered ? { ...options, session: offered.session } : options);
    socket.setNoDelay(true);
    socket.setKeepAlive(true, TCP_KEEP_ALIVE_MS);
    const timedOut = (): Error => new PeerConnectTimeoutError(endpoint, timeoutMs);
    connectWithin(socket, 'secureConnect', timeoutMs, timedOut, () => {
      socket.on('error', () => undefined); // until its connection listens: a failure shows as its close
      const resumed = socket.isSessionReused();
      const peer = resumed ? offered?.peer : socket.getPeerX509Certificate();
      const refused = peer === undefined ? new PeerIdentityError(destination.spiffeId, [], endpoint) : refusal(peer, destination.spiffeId, endpoint);
      if (refused === undefined && peer !== undefined) {
        proven = peer;
        const last = early.at(-1);
        if (last) sessions.latest = { session: last, peer };
        callback(null, socket, reads);
        return;
      }
      socket.destroy();
      if (offered === undefined || !resumed) return callback(refused ?? new PeerIdentityError(destination.spiffeId, [], endpoint), null);
      // A resumed session that no longer proves the peer: drop it, and let a full handshake decide.
      if (sessions.latest === offered) sessions.latest = undefined;
      connect(callback, undefined);
    }, (err) => callback(err, null));
    socket.on('session', (session: Buffer) => {
      if (proven) sessions.latest = { session, peer: proven };
      else early.push(session);
    });
  };
  return (callback) => connect(callback, sessions.latest);
}

/** Why a certificate no longer proves the expected identity (another identity, or expired), or undefined. */
function refusal(peer: X509Certificate, expected: string, endpoint: string): Error | undefined {
  const other = checkPeerIdentity(peer.subjectAltName, expected, endpoint);
  if (other) return other;
  return Date.parse(peer.validTo) > Date.now() ? undefined : new Error(`the certificate of the sidecar at ${endpoint} expired at ${peer.validTo}`);
}
