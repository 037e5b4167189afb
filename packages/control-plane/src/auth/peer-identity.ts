import type { PeerCertificate } from 'node:tls';
import { parseSpiffeId, type WorkloadIdentity } from '@weft/api';
import { normalizeSerial, spiffeIdsIn } from '@weft/pki';

/** Who is calling, from the client certificate of the TLS connection the call arrived on. */
export interface PeerIdentity extends WorkloadIdentity {
  readonly spiffeId: string;
  readonly certificateExpiresAtMs: number;
  /** Of the certificate on this connection (`normalizeSerial`): what a removed proxy is refused by. */
  readonly serialNumber: string;
}

/** Any gRPC server call: unary, streaming or bidi. */
export interface CallWithAuthContext {
  getAuthContext(): { readonly sslPeerCertificate?: PeerCertificate } | null;
}

/**
 * The caller's identity, or undefined when it presented no certificate. The server's credentials
 * request a client certificate but do not require one (first contact has only a join token);
 * grpc-js fills `sslPeerCertificate` only when the presented certificate chained to the mesh CA,
 * so a certificate from anywhere else counts as no certificate at all.
 *
 * A certificate that chains to the CA but does not carry exactly one workload-shaped SPIFFE URI
 * SAN is also treated as anonymous: the CA never issues one, so it is not ours to trust.
 */
export function peerIdentity(call: CallWithAuthContext): PeerIdentity | undefined {
  const cert = call.getAuthContext()?.sslPeerCertificate;
  if (!cert) return undefined;
  const uris = spiffeIdsIn(cert.subjectaltname);
  if (uris.length !== 1) return undefined;
  const uri = uris[0] as string;
  const id = parseSpiffeId(uri);
  if (!id) return undefined;
  const expires = Date.parse(cert.valid_to);
  return { ...id, spiffeId: uri, certificateExpiresAtMs: Number.isNaN(expires) ? 0 : expires, serialNumber: normalizeSerial(cert.serialNumber ?? '') };
}
