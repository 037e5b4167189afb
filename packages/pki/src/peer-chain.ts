import type { DetailedPeerCertificate } from 'node:tls';

/**
 * The certificates a TLS peer presented, leaf first, as DER. Node links them through
 * `issuerCertificate`, and a self-signed root is its own issuer: the walk stops when a
 * certificate comes round again.
 */
export function presentedChain(peer: DetailedPeerCertificate | undefined): Buffer[] {
  const chain: Buffer[] = [];
  const seen = new Set<string>();
  let cert = peer;
  while (cert?.raw && !seen.has(cert.fingerprint256)) {
    seen.add(cert.fingerprint256);
    chain.push(cert.raw);
    cert = cert.issuerCertificate;
  }
  return chain;
}
