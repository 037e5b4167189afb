import { createHash, X509Certificate } from 'node:crypto';
import * as tls from 'node:tls';
import { CONTROL_PLANE_NAMESPACE, CONTROL_PLANE_SERVICE, parseSpiffeId, socketFailure } from '@weft/api';
import { certificateInfo, presentedChain as peerChain, verifyChain } from '@weft/pki/workload';
import { formatHostPort, type HostPort } from './address';
import { ControlError } from './errors';
import { CONTROL_PLANE_SERVER_NAME } from './tls-credentials';

/** What first contact establishes: the root to trust, and the trust domain it speaks for. */
export interface TrustAnchor {
  readonly rootPem: string;
  readonly trustDomain: string;
}

export interface FetchTrustAnchorOptions {
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

/**
 * First contact with the control plane, before we trust anything: connect WITHOUT verification,
 * find among the presented certificates the one whose SHA-256 is the token's fingerprint, and
 * make it the trust anchor. Nothing is sent on this connection; every later connection is
 * verified TLS against that root.
 *
 * Matching the fingerprint alone is not enough: the root is public, so anyone can present it next
 * to a leaf of their own. The leaf must chain to the pinned root and carry the control plane's
 * SPIFFE ID, whose trust domain becomes ours.
 */
export async function fetchTrustAnchor(address: HostPort, fingerprint: string, options: FetchTrustAnchorOptions = {}): Promise<TrustAnchor> {
  const where = formatHostPort(address);
  const chain = (await presentedChain(address, options)).map((der) => new X509Certificate(der));
  const rootIndex = chain.findIndex((c) => sha256(c.raw) === fingerprint);
  if (rootIndex < 0) {
    throw mismatch(
      `the control plane at ${where} is not the one the token was made for: none of the ${chain.length} certificate(s) it presented ` +
        `has the root fingerprint in the token (${fingerprint.slice(0, 16)}...). Check --control-plane, or create a token on this control plane.`,
    );
  }
  const rootPem = chain[rootIndex]!.toString();
  if (rootIndex === 0) throw mismatch(`the control plane at ${where} presents the pinned root itself as its server certificate`);

  const path = chain.slice(0, rootIndex).map((c) => c.toString());
  const verdict = verifyChain(path, [rootPem]);
  if (!verdict.ok) throw mismatch(`the control plane at ${where} presented the pinned root, but its server certificate does not chain to it: ${verdict.reason}`);

  const uris = certificateInfo(path[0]!).uris;
  const identity = uris.map(parseSpiffeId).find((id) => id?.namespace === CONTROL_PLANE_NAMESPACE && id.service === CONTROL_PLANE_SERVICE);
  if (!identity) {
    throw mismatch(`the server at ${where} is not a Weft control plane: its certificate is for ${uris.join(', ') || 'no SPIFFE ID'}`);
  }
  return { rootPem, trustDomain: identity.trustDomain };
}

function sha256(der: Buffer): string {
  return createHash('sha256').update(der).digest('hex');
}

function mismatch(message: string): ControlError {
  return new ControlError('WEFT_ERR_CONTROL_PLANE_MISMATCH', message);
}

/** The DER certificates the server sent, leaf first (node links them through issuerCertificate). */
function presentedChain(address: HostPort, options: FetchTrustAnchorOptions): Promise<Buffer[]> {
  const where = formatHostPort(address);
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: address.host,
      port: address.port,
      servername: CONTROL_PLANE_SERVER_NAME,
      // Deliberately unverified: we do not know the root yet. We only read certificates here.
      rejectUnauthorized: false,
      ALPNProtocols: ['h2'],
    });
    const fail = (err: Error): void => {
      cleanup();
      const check = 'Is weft-control-plane running, and is --control-plane right?';
      reject(new ControlError('WEFT_ERR_CONTROL_PLANE_UNAVAILABLE', `cannot reach the control plane at ${where}: ${socketFailure(err.message)}. ${check}`, { cause: err }));
    };
    const onAbort = (): void => fail(new Error('cancelled'));
    const cleanup = (): void => {
      options.signal?.removeEventListener('abort', onAbort);
      socket.destroy();
    };
    socket.setTimeout(options.timeoutMs ?? 10_000, () => fail(new Error('TLS handshake timed out')));
    socket.once('error', fail);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('secureConnect', () => {
      const chain = peerChain(socket.getPeerCertificate(true));
      cleanup();
      resolve(chain);
    });
  });
}
