import { connect, type ConnectionOptions } from 'node:tls';
import { parseHostPort } from '@weft/api';
import { sanValues } from '@weft/pki';

/**
 * What dialing an announced address says about it:
 * `verified`: it served a mesh certificate for the announcing proxy's SPIFFE ID;
 * `mismatch`: it served a certificate for someone else (or one this mesh did not issue);
 * `undecided`: no answer, refused, or a handshake that failed otherwise: nothing proven either way.
 */
export type VerifyOutcome =
  | { readonly result: 'verified' }
  | { readonly result: 'mismatch'; readonly detail: string }
  | { readonly result: 'undecided'; readonly detail: string };

/**
 * Checks that `address` is served by `spiffeId` before the registry publishes it. Injectable:
 * the control plane dials with TLS (`tlsAddressVerifier`); unit tests that announce addresses
 * nobody listens at pass a double.
 */
export type AddressVerifier = (address: string, spiffeId: string) => Promise<VerifyOutcome>;

/** The control plane's own client credential, and the roots it trusts, at the time of a dial. */
export interface VerifierCredential {
  readonly caPem: string;
  readonly certificatePem: string;
  readonly privateKeyPem: string;
}

/** A dial that gets no answer in this long decides nothing (as for endpoint-probe). */
const VERIFY_TIMEOUT_MS = 1_000;

/** OpenSSL's verdicts on a certificate chain: the peer served TLS, but not with a certificate of this mesh. */
const CHAIN_ERRORS = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_SIGNATURE_FAILURE',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
]);

/**
 * Dials the announced inbound address with TLS, as a caller would: the sidecar's inbound listener
 * requires a client certificate chained to the trust bundle, so the control plane presents its
 * own (`credential()`, a client certificate for its SPIFFE ID). The served chain must verify
 * against the mesh roots, and its URI SAN must be `spiffeId`. The connection is closed right
 * after the handshake; no request is sent. This is endpoint-probe's TCP connect, one step further.
 */
export function tlsAddressVerifier(credential: () => VerifierCredential): AddressVerifier {
  return (address, spiffeId) => {
    const at = parseHostPort(address);
    if (!at) return Promise.resolve({ result: 'mismatch', detail: `${address} is not HOST:PORT` });
    const { caPem, certificatePem, privateKeyPem } = credential();
    const options: ConnectionOptions = {
      host: at.host,
      port: at.port,
      ca: caPem,
      cert: certificatePem,
      key: privateKeyPem,
      rejectUnauthorized: true,
      // The address is not a host name the certificate names; the SPIFFE ID is checked below.
      checkServerIdentity: () => undefined,
    };
    return new Promise<VerifyOutcome>((resolve) => {
      const socket = connect(options);
      socket.unref(); // a verification never keeps a process alive
      const done = (outcome: VerifyOutcome): void => {
        socket.destroy();
        resolve(outcome);
      };
      socket.setTimeout(VERIFY_TIMEOUT_MS, () => done({ result: 'undecided', detail: `no TLS handshake with ${address} within ${VERIFY_TIMEOUT_MS}ms` }));
      socket.once('secureConnect', () => {
        const served = sanValues(socket.getPeerCertificate().subjectaltname, 'URI:');
        if (served.includes(spiffeId)) done({ result: 'verified' });
        else done({ result: 'mismatch', detail: `${address} serves a certificate for ${served.join(', ') || 'no SPIFFE ID'}, not ${spiffeId}` });
      });
      socket.once('error', (err: NodeJS.ErrnoException) => {
        const code = err.code ?? err.message;
        if (CHAIN_ERRORS.has(code)) done({ result: 'mismatch', detail: `${address} serves a certificate this mesh did not issue (${code})` });
        else done({ result: 'undecided', detail: `cannot complete a TLS handshake with ${address}: ${code === 'ECONNREFUSED' ? 'connection refused' : code}` });
      });
    });
  };
}
