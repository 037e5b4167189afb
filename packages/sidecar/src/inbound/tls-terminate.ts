import { createHash } from 'node:crypto';
import { parseSpiffeId } from '@weft/api';
import { NoPeerIdentityError } from '../layers/errors';
import type { Service } from '../layers/service';
import { spiffeIdsIn } from '@weft/pki/workload';
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

/** The caller of an HTTP request, with what the app is told about its certificate. */
export interface HttpPeer extends PeerIdentity {
  /** The `x-forwarded-client-cert` value for the app ('' for a plaintext caller). */
  readonly forwardedClientCert: string;
}

export type WithPeer<R> = R & { readonly peer: HttpPeer };

/**
 * A caller without a certificate (plaintext, accepted in PERMISSIVE mode): no identity, so only
 * policies that name no caller can allow it, and the app gets no `x-weft-peer-identity` and no
 * `x-forwarded-client-cert`.
 */
export const PLAINTEXT_PEER: HttpPeer = Object.freeze({ spiffeId: '', source: 'unknown', forwardedClientCert: '' });

/**
 * TLS itself (client certificate required, chained to the trust bundle, TLS 1.3) is done by the
 * server before a request exists; this layer names the caller: the one SPIFFE ID in its
 * certificate's URI SAN, and the `x-forwarded-client-cert` the app gets (`self`, this sidecar's
 * SPIFFE ID, is its `By`). Both once per connection, since every request on it has the same peer.
 * A plaintext request gets PLAINTEXT_PEER.
 */
export function tlsTerminate<R extends TerminateRequest>(self: string, next: Service<WithPeer<R>>): Service<R> {
  const peers = new WeakMap<object, HttpPeer | null>();
  return (req) => {
    if (req.socket === null) return next({ ...req, peer: PLAINTEXT_PEER });
    let peer = peers.get(req.socket);
    if (peer === undefined) {
      peer = httpPeerOf(req.socket, self);
      peers.set(req.socket, peer);
    }
    if (peer === null) return Promise.reject(new NoPeerIdentityError());
    req.record.peerIdentity = peer.spiffeId;
    req.record.source = peer.source;
    return next({ ...req, peer });
  };
}

function httpPeerOf(socket: PeerCertificateSource, self: string): HttpPeer | null {
  const cert = socket.getPeerX509Certificate();
  const peer = peerOf(cert?.subjectAltName);
  return peer && cert ? { ...peer, forwardedClientCert: forwardedClientCert(self, cert.raw, peer.spiffeId) } : null;
}

/**
 * Envoy's `x-forwarded-client-cert` as Istio's sidecars set it, less Subject (a mesh certificate's
 * subject says nothing its URI does not): `By`, the URI SAN of this sidecar's certificate; `Hash`,
 * the SHA-256 of the client certificate's DER in hex; `URI`, the client certificate's URI SAN.
 * SPIFFE IDs hold none of `,;="`, so no value needs quoting.
 */
export function forwardedClientCert(self: string, certDer: Buffer, peer: string): string {
  return `By=${self};Hash=${createHash('sha256').update(certDer).digest('hex')};URI=${peer}`;
}

/** The peer a certificate's URI SAN names, or null unless it holds exactly one SPIFFE ID. */
export function peerOf(subjectAltName: string | undefined): PeerIdentity | null {
  const ids = spiffeIdsIn(subjectAltName);
  const only = ids.length === 1 ? ids[0] : undefined;
  if (only === undefined) return null;
  const parsed = parseSpiffeId(only);
  return { spiffeId: only, source: parsed ? `${parsed.service}.${parsed.namespace}` : 'unknown' };
}
