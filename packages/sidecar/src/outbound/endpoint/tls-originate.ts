import { createSecureContext, type ConnectionOptions, type PeerCertificate, type SecureContext, type SecureVersion } from 'node:tls';
import type { IdentityMaterial } from '../../control/identity-material';
import type { Destination } from '../../config/types';
import { PeerIdentityError } from '../../layers/errors';
import { spiffeIdsIn } from '@weft/pki/workload';

/**
 * The client TLS contexts of one identity, by lowest TLS version (a context holds its version
 * range). Given `cert`/`key`/`ca` instead, `tls.connect` builds a context per connection: it
 * parses the key, the chain and the bundle each time, about 2 ms of CPU and 40 KB of native
 * memory per new connection to a peer (docs/performance.md, "Memory of the client sidecar").
 * Keyed by the material object, which a renewal replaces, so a new certificate gets new contexts
 * and the old ones go with the last connection that used them.
 */
const contexts = new WeakMap<IdentityMaterial, Map<SecureVersion, SecureContext>>();

export function clientSecureContext(material: IdentityMaterial, minVersion: SecureVersion): SecureContext {
  let byVersion = contexts.get(material);
  if (!byVersion) contexts.set(material, (byVersion = new Map()));
  let context = byVersion.get(minVersion);
  if (!context) {
    context = createSecureContext({ cert: material.certificateChainPem.join(''), key: material.privateKeyPem, ca: [...material.trustBundlePem], minVersion });
    byVersion.set(minVersion, context);
  }
  return context;
}

/**
 * TLS origination to a peer sidecar, as `tls.connect` options: our workload certificate as the
 * client certificate, the trust bundle as the only roots, TLS 1.3 only, and the peer's identity
 * pinned to the destination's SPIFFE ID. A chain that verifies but names another workload is
 * refused during the handshake, so not a byte of the request reaches it. Used by pooled HTTP/1.1
 * (peer-connector.ts, which adds session resumption and checks a resumed peer itself), HTTP/2
 * sessions and tunnels (which offer no session to resume: every handshake checks here).
 */
export function tlsClientOptions(material: IdentityMaterial, destination: Destination, endpoint: string): ConnectionOptions {
  const minVersion = destination.minTLSVersion ?? 'TLSv1.3';
  return {
    secureContext: clientSecureContext(material, minVersion),
    minVersion,
    // SNI is a DNS name, never the IP the endpoint is reached on; peers select nothing by it yet.
    servername: `${destination.service}.${destination.namespace}.svc`,
    checkServerIdentity: (_host: string, cert: PeerCertificate) => checkPeerIdentity(cert.subjectaltname, destination.spiffeId, endpoint),
  };
}

/** undefined when the certificate's only SPIFFE ID is `expected`; the error to fail the handshake with otherwise. */
export function checkPeerIdentity(subjectAltName: string | undefined, expected: string, endpoint: string): PeerIdentityError | undefined {
  const ids = spiffeIdsIn(subjectAltName);
  // An SVID carries exactly one URI SAN (SPIFFE X509-SVID 2); several make the identity ambiguous.
  if (ids.length === 1 && ids[0] === expected) return undefined;
  return new PeerIdentityError(expected, ids, endpoint);
}
