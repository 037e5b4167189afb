import { X509Certificate } from 'node:crypto';
import * as tls from 'node:tls';
import { presentedChain } from '@weft/pki';

/**
 * The certificates a TLS server presents to a new handshake, leaf first, as PEM. Unverified on
 * purpose: tests then check what the chain verifies to themselves.
 */
export function servedChain(port: number, alpn = 'h2'): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername: 'weft-control-plane', rejectUnauthorized: false, ALPNProtocols: [alpn] }, () => {
      const chain = presentedChain(socket.getPeerCertificate(true)).map((der) => new X509Certificate(der).toString());
      socket.destroy();
      resolve(chain);
    });
    socket.on('error', reject);
  });
}
