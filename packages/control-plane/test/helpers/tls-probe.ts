import { X509Certificate } from 'node:crypto';
import * as tls from 'node:tls';

/**
 * The certificates a TLS server presents to a new handshake, leaf first, as PEM. Unverified on
 * purpose: tests then check what the chain verifies to themselves.
 */
export function servedChain(port: number, alpn = 'h2'): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername: 'weft-control-plane', rejectUnauthorized: false, ALPNProtocols: [alpn] }, () => {
      const chain: string[] = [];
      const seen = new Set<string>();
      let cert: tls.DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
      while (cert?.raw && !seen.has(cert.fingerprint256)) {
        seen.add(cert.fingerprint256);
        chain.push(new X509Certificate(cert.raw).toString());
        cert = cert.issuerCertificate;
      }
      socket.destroy();
      resolve(chain);
    });
    socket.on('error', reject);
  });
}
