import { sanValues } from './san';

/**
 * Replaces host-name verification for connections to the control plane: its certificate is
 * issued to a SPIFFE ID, not to a host name, and it may be reached at any address. The chain has
 * already been verified against the caller's roots; the server must also hold `expected`
 * (`controlPlaneSpiffeId(trustDomain)` from @weft/api, or the ID an operator config names).
 */
export function checkControlPlaneIdentity(expected: string): (host: string, cert: { readonly subjectaltname?: string }) => Error | undefined {
  return (_host, cert) => {
    const uris = sanValues(cert.subjectaltname, 'URI:');
    if (uris.includes(expected)) return undefined;
    return new Error(`the server's certificate is for ${uris.join(', ') || 'no SPIFFE ID'}, not for the control plane (${expected})`);
  };
}
