import { parseSpiffeId } from '@weft/api';
import { NoPeerIdentityError } from '../layers/errors';
import type { Service } from '../layers/http';
import { spiffeIdsIn } from '../layers/spiffe-san';
import type { PeerCertificateSource } from './types';

/** The verified caller: its SPIFFE ID and `service.namespace` (the `source` metric label). */
export interface PeerIdentity {
  readonly spiffeId: string;
  readonly source: string;
}

export interface TerminateRequest {
  /** Null for a plaintext connection (accepted in PERMISSIVE mode). */
  readonly socket: PeerCertificateSource | null;
  readonly record: { peerIdentity: string; source: string };
}

export type WithPeer<R> = R & { readonly peer: PeerIdentity };

/**
 * A caller without a certificate (plaintext, accepted in PERMISSIVE mode): no identity, so only
 * policies that name no caller can allow it, and the app gets no `x-weft-peer-identity`.
 */
export const PLAINTEXT_PEER: PeerIdentity = Object.freeze({ spiffeId: '', source: 'unknown' });

/**
 * TLS itself (client certificate required, chained to the trust bundle, TLS 1.3) is done by the
 * server before a request exists; this layer names the caller: the one SPIFFE ID in its
 * certificate's URI SAN. Read once per connection, since every request on it has the same peer.
 * A plaintext request gets PLAINTEXT_PEER.
 */
export function tlsTerminate<R extends TerminateRequest>(next: Service<WithPeer<R>>): Service<R> {
  const peers = new WeakMap<object, PeerIdentity | null>();
  return (req) => {
    if (req.socket === null) return next({ ...req, peer: PLAINTEXT_PEER });
    let peer = peers.get(req.socket);
    if (peer === undefined) {
      peer = peerOf(req.socket.getPeerX509Certificate()?.subjectAltName);
      peers.set(req.socket, peer);
    }
    if (peer === null) return Promise.reject(new NoPeerIdentityError());
    req.record.peerIdentity = peer.spiffeId;
    req.record.source = peer.source;
    return next({ ...req, peer });
  };
}

/** The peer a certificate's URI SAN names, or null unless it holds exactly one SPIFFE ID. */
export function peerOf(subjectAltName: string | undefined): PeerIdentity | null {
  const ids = spiffeIdsIn(subjectAltName);
  const only = ids.length === 1 ? ids[0] : undefined;
  if (only === undefined) return null;
  const parsed = parseSpiffeId(only);
  return { spiffeId: only, source: parsed ? `${parsed.service}.${parsed.namespace}` : 'unknown' };
}
