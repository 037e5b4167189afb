import type { Logger } from '@weft/api';
import { Watch } from '../watch';
import type { HostPort } from './address';
import { failingOver, type ControlPlaneAddresses } from './control-plane-addresses';
import { Backoff, type BackoffOptions } from './backoff';
import { errorInfo, type ErrorInfo } from './errors';
import type { IdentityMaterial } from './identity-material';
import type { JoinToken } from './join-token';
import { bundleAfterRenewal, renewDelay, rerootDelay } from './renewal-policy';
import { signIdentity } from './sign';

export { renewDelay } from './renewal-policy';

/** Retrying a failed renewal: first retry within a second, then at most every 30 s. */
const RENEW_BACKOFF: BackoffOptions = Object.freeze({ baseMs: 1_000, capMs: 30_000 });
/** Never schedule renewals closer than this, whatever the certificate's lifetime. */
const MIN_RENEW_DELAY_MS = 100;

export interface IdentityClientOptions {
  /** Signing goes to the current one; a replica that cannot be reached is left for the next. */
  readonly addresses: ControlPlaneAddresses;
  readonly trustDomain: string;
  readonly spiffeId: string;
  readonly token: JoinToken;
  /** The root pinned by the token; used until the first trust bundle arrives. */
  readonly bootstrapRootPem: string;
  readonly logger: Logger;
  /** Where the material is published; shared with the control client (trust bundle updates). */
  readonly identity?: Watch<IdentityMaterial>;
  readonly renewBackoff?: BackoffOptions;
  readonly signTimeoutMs?: number;
  /** Sent with every signing request (see SignRequest.proxy_id). */
  readonly proxyId?: string;
}

export interface IdentityState {
  readonly renewals: number;
  readonly consecutiveFailures: number;
  readonly lastError?: ErrorInfo;
  readonly nextRenewalAtMs?: number;
}

/**
 * Obtains the sidecar's certificate with the join token, then renews it at half its lifetime over
 * mTLS with the current certificate, with a new key each time. A renewal only publishes a new
 * IdentityMaterial: TLS contexts pick it up for new handshakes, nothing restarts, no connection
 * is dropped.
 */
export class IdentityClient {
  readonly identity: Watch<IdentityMaterial>;
  readonly #options: IdentityClientOptions;
  readonly #backoff: Backoff;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  #renewals = 0;
  #failures = 0;
  #lastError: ErrorInfo | undefined;
  #nextRenewalAtMs: number | undefined;
  #renewing = false;
  /** The root the control plane signs under, as its last snapshot said ('' until told). */
  #signingRoot = '';

  constructor(options: IdentityClientOptions) {
    this.#options = options;
    this.identity = options.identity ?? new Watch<IdentityMaterial>();
    this.#backoff = new Backoff(options.renewBackoff ?? RENEW_BACKOFF);
  }

  get state(): IdentityState {
    return {
      renewals: this.#renewals,
      consecutiveFailures: this.#failures,
      ...(this.#lastError ? { lastError: this.#lastError } : {}),
      ...(this.#nextRenewalAtMs !== undefined ? { nextRenewalAtMs: this.#nextRenewalAtMs } : {}),
    };
  }

  /**
   * First certificate, authenticated by the join token. Does not retry: the caller decides
   * whether a failure is fatal (bad token) or worth waiting out (unreachable).
   */
  async bootstrap(): Promise<IdentityMaterial> {
    const material = await failingOver(this.#options.addresses, (address) => signIdentity({ ...this.#common(address), rootsPem: [this.#options.bootstrapRootPem], token: this.#options.token }));
    if (this.#closed) return material;
    this.identity.set(material);
    this.#options.logger.info('certificate issued', { spiffeId: material.spiffeId, expiresAt: new Date(material.expiresAtMs).toISOString() });
    this.#schedule(renewDelay(material, Date.now()));
    return material;
  }

  /**
   * The control plane now signs under `rootFingerprint` (a root rotation's reissue phase). A
   * certificate from another root is replaced within seconds rather than at half its lifetime:
   * the old root is retired only once every proxy holds a certificate from the new one.
   */
  renewUnlessFrom(rootFingerprint: string): void {
    this.#signingRoot = rootFingerprint;
    const current = this.identity.current;
    if (!rootFingerprint || !current?.rootFingerprint || current.rootFingerprint === rootFingerprint || this.#renewing || this.#closed) return;
    const delay = rerootDelay(current, Date.now());
    if (this.#nextRenewalAtMs !== undefined && this.#nextRenewalAtMs <= Date.now() + delay) return;
    this.#options.logger.info('renewing early: the control plane signs under another root now', { certificateRoot: current.rootFingerprint, signingRoot: rootFingerprint, inMs: delay });
    this.#schedule(delay);
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#nextRenewalAtMs = undefined;
  }

  #common(address: HostPort): { address: HostPort; trustDomain: string; spiffeId: string; timeoutMs?: number; proxyId?: string } {
    const o = this.#options;
    return { address, trustDomain: o.trustDomain, spiffeId: o.spiffeId, ...(o.signTimeoutMs ? { timeoutMs: o.signTimeoutMs } : {}), ...(o.proxyId ? { proxyId: o.proxyId } : {}) };
  }

  #schedule(delayMs: number): void {
    if (this.#closed) return;
    clearTimeout(this.#timer);
    const delay = Math.max(MIN_RENEW_DELAY_MS, delayMs);
    this.#nextRenewalAtMs = Date.now() + delay;
    // unref: a pending renewal alone must not keep a finished process alive.
    this.#timer = setTimeout(() => void this.#renew(), delay).unref();
  }

  async #renew(): Promise<void> {
    const current = this.identity.current;
    if (!current || this.#closed) return;
    const expired = Date.now() >= current.expiresAtMs;
    const rootsPem = current.trustBundlePem.length > 0 ? current.trustBundlePem : [this.#options.bootstrapRootPem];
    this.#renewing = true;
    try {
      // While the certificate is valid it authenticates the renewal. Once it has expired, mTLS
      // cannot work any more; the join token is the only credential left (it works if the
      // operator made it reusable and it has not expired), so we try that rather than give up.
      const signed = await failingOver(this.#options.addresses, (address) =>
        signIdentity(expired ? { ...this.#common(address), rootsPem, token: this.#options.token } : { ...this.#common(address), rootsPem, current }),
      );
      if (this.#closed) return;
      const material = Object.freeze({ ...signed, trustBundlePem: bundleAfterRenewal(signed, this.identity.current) });
      this.#renewals += 1;
      this.#failures = 0;
      this.#lastError = undefined;
      this.#backoff.reset();
      this.identity.set(material);
      this.#options.logger.info('certificate renewed', { spiffeId: material.spiffeId, expiresAt: new Date(material.expiresAtMs).toISOString(), root: material.rootFingerprint });
      // Answered from before the signing root changed: go again (with backoff, never in a loop).
      const stale = this.#signingRoot !== '' && material.rootFingerprint !== this.#signingRoot;
      this.#schedule(stale ? this.#backoff.next() : renewDelay(material, Date.now()));
    } catch (err) {
      if (this.#closed) return;
      this.#failures += 1;
      this.#lastError = errorInfo(err);
      const now = Date.now();
      let retryInMs = this.#backoff.next();
      const leftMs = current.expiresAtMs - now;
      // Keep at least one more attempt inside the remaining lifetime.
      if (leftMs > 0) retryInMs = Math.min(retryInMs, Math.max(MIN_RENEW_DELAY_MS, leftMs / 2));
      const fields = { error: this.#lastError.message, code: this.#lastError.code, failures: this.#failures, expiresAt: new Date(current.expiresAtMs).toISOString(), retryInMs };
      if (leftMs > 0) this.#options.logger.warn('certificate renewal failed; the current certificate stays in use', fields);
      else this.#options.logger.error('certificate renewal failed and the certificate has expired; mTLS will fail until renewal succeeds', fields);
      this.#schedule(retryInMs);
    } finally {
      this.#renewing = false;
    }
  }
}
