import { X509Certificate } from 'node:crypto';
import * as tls from 'node:tls';
import { presentedChain } from '@weft/pki';

/**
 * The chain a TLS server presents to a new handshake (leaf first, PEM), read without verifying
 * anything, so a test can check what it verifies to. A sidecar's inbound port requires a client
 * certificate; in TLS 1.3 the client sees the server's certificates before that refusal.
 */
export function servedChain(port: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, checkServerIdentity: () => undefined }, () => {
      const chain = presentedChain(socket.getPeerCertificate(true)).map((der) => new X509Certificate(der).toString());
      socket.destroy();
      resolve(chain);
    });
    socket.on('error', reject);
  });
}

/**
 * One HTTP/1.1 GET over TLS to a sidecar's inbound port, presenting `client` as the client
 * certificate; resolves with the status line, or with how the connection failed. TLS 1.3 servers
 * refuse a client certificate after the client's side of the handshake, so a refusal shows as an
 * error or a closed connection rather than a failed handshake.
 */
export function inboundStatusLine(port: number, host: string, client: { certificatePem: string; privateKeyPem: string }): Promise<string> {
  return new Promise((resolve) => {
    let data = '';
    const done = (outcome: string): void => {
      socket.destroy();
      resolve(outcome);
    };
    const socket = tls.connect({ host: '127.0.0.1', port, cert: client.certificatePem, key: client.privateKeyPem, rejectUnauthorized: false, checkServerIdentity: () => undefined }, () => {
      socket.write(`GET / HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
    });
    socket.setTimeout(5_000, () => done('timeout'));
    socket.on('data', (chunk: Buffer) => {
      data += chunk.toString('latin1');
      if (data.includes('\r\n')) done(data.slice(0, data.indexOf('\r\n')));
    });
    socket.on('error', (err) => done(`error: ${err.message}`));
    socket.on('end', () => done(data ? data.split('\r\n')[0] ?? '' : 'closed'));
  });
}
