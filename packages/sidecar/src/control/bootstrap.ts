import { spiffeId, type Logger } from '@weft/api';
import type { Watch } from '../watch';
import { failingOver, type ControlPlaneAddresses } from './control-plane-addresses';
import { formatHostPort } from './address';
import { retryWithBackoff, type BackoffOptions } from './backoff';
import { fetchTrustAnchor, type TrustAnchor } from './bootstrap-trust';
import { isTransient } from './errors';
import { IdentityClient } from './identity-client';
import type { IdentityMaterial } from './identity-material';
import type { JoinToken } from './join-token';

/** Waiting for a control plane that is not up yet: retry every few seconds at most. */
const BOOT_BACKOFF: BackoffOptions = Object.freeze({ baseMs: 500, capMs: 5_000 });

export interface BootstrapOptions {
  /** Tried in turn while unreachable: each replica serves the same mesh root. */
  readonly addresses: ControlPlaneAddresses;
  readonly token: JoinToken;
  readonly service: string;
  readonly namespace: string;
  readonly logger: Logger;
  readonly identity: Watch<IdentityMaterial>;
  readonly signal?: AbortSignal;
  readonly backoff?: BackoffOptions;
  readonly renewBackoff?: BackoffOptions;
  /** This sidecar process; sent when signing so the operator can remove it (`weftctl proxy remove`). */
  readonly proxyId?: string;
}

export interface Bootstrapped {
  readonly trust: TrustAnchor;
  readonly spiffeId: string;
  /** Already holding the first certificate and scheduled to renew it. */
  readonly identityClient: IdentityClient;
}

/**
 * Boot: pin the control plane's root from the token, then get the first certificate with the
 * token. An unreachable control plane is waited out (logged on every attempt); a wrong control
 * plane, a bad token or a refused CSR is thrown at once, because retrying cannot fix it.
 */
export async function bootstrapIdentity(options: BootstrapOptions): Promise<Bootstrapped> {
  const { addresses, token, logger, signal } = options;
  const retryOptions = { logger, backoff: options.backoff ?? BOOT_BACKOFF, retryable: isTransient, ...(signal ? { signal } : {}) };
  const trust = await retryWithBackoff(() => failingOver(addresses, (address) => fetchTrustAnchor(address, token.rootFingerprint, signal ? { signal } : {})), {
    ...retryOptions,
    what: 'first contact with the control plane',
  });
  logger.info('control plane root pinned from the join token', { controlPlane: formatHostPort(addresses.current), trustDomain: trust.trustDomain, tokenId: token.id });
  const id = spiffeId({ trustDomain: trust.trustDomain, namespace: options.namespace, service: options.service });
  const identityClient = new IdentityClient({
    addresses,
    trustDomain: trust.trustDomain,
    spiffeId: id,
    token,
    bootstrapRootPem: trust.rootPem,
    logger,
    identity: options.identity,
    ...(options.renewBackoff ? { renewBackoff: options.renewBackoff } : {}),
    ...(options.proxyId ? { proxyId: options.proxyId } : {}),
  });
  try {
    await retryWithBackoff(() => identityClient.bootstrap(), { ...retryOptions, what: 'certificate signing' });
  } catch (err) {
    identityClient.close();
    throw err;
  }
  return { trust, spiffeId: id, identityClient };
}
