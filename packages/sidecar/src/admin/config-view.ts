import { certificateFingerprint } from '@weft/pki/workload';
import type { CompiledConfig } from '../config/compiled-config';
import type { ControlState } from '../control/control-client';
import type { ErrorInfo } from '../control/errors';
import type { IdentityState } from '../control/identity-client';
import type { IdentityMaterial } from '../control/identity-material';
import type { Readiness } from './server';

/** Everything /config may draw from. */
export interface ConfigViewSource {
  readonly proxyId: string;
  readonly service: string;
  readonly namespace: string;
  readonly readiness: Readiness;
  readonly draining: boolean;
  readonly controlPlaneAddress: string;
  /** The replica in use now (or tried next): where this sidecar started, or where failover took it. */
  readonly controlPlaneCurrent: string;
  readonly identity?: IdentityMaterial;
  readonly identityState?: IdentityState;
  readonly control?: ControlState;
  readonly config?: CompiledConfig;
}

export interface ErrorView {
  readonly message: string;
  readonly code: string | null;
  readonly at: string;
}

/** The /config document. Built field by field: the private key has no path into it. */
export interface ConfigView {
  readonly proxyId: string;
  readonly service: string;
  readonly namespace: string;
  readonly ready: boolean;
  readonly notReadyReason: string | null;
  readonly draining: boolean;
  readonly identity: {
    readonly spiffeId: string;
    readonly certificateExpiresAt: string;
    readonly certificateIssuedAt: string;
    readonly trustBundleRoots: number;
    /** SHA-256 of each trusted root, and of the root our certificate chains to (root rotation). */
    readonly trustBundleFingerprints: readonly string[];
    readonly certificateRootFingerprint: string | null;
    readonly certificateSerial: string | null;
    readonly renewalFailures: number;
    readonly lastRenewalError: ErrorView | null;
  } | null;
  readonly controlPlane: { readonly address: string; readonly current: string; readonly connected: boolean; readonly connectedSince: string | null; readonly lastError: ErrorView | null };
  readonly config: {
    readonly version: string | null;
    readonly storeRevision: number | null;
    readonly ackedAt: string | null;
    readonly lastNack: { readonly version: string; readonly message: string; readonly at: string } | null;
  };
  readonly inForce: unknown;
}

export function buildConfigView(src: ConfigViewSource): ConfigView {
  const { identity, identityState, control, config } = src;
  return {
    proxyId: src.proxyId,
    service: src.service,
    namespace: src.namespace,
    ready: src.readiness.ready,
    notReadyReason: src.readiness.ready ? null : src.readiness.reason,
    draining: src.draining,
    identity: identity
      ? {
          spiffeId: identity.spiffeId,
          certificateExpiresAt: iso(identity.expiresAtMs),
          certificateIssuedAt: iso(identity.issuedAtMs),
          trustBundleRoots: identity.trustBundlePem.length,
          trustBundleFingerprints: identity.trustBundlePem.map(certificateFingerprint),
          certificateRootFingerprint: identity.rootFingerprint ?? null,
          certificateSerial: identity.serialNumber ?? null,
          renewalFailures: identityState?.consecutiveFailures ?? 0,
          lastRenewalError: errorView(identityState?.lastError),
        }
      : null,
    controlPlane: {
      address: src.controlPlaneAddress,
      current: src.controlPlaneCurrent,
      connected: control?.connected ?? false,
      connectedSince: control?.connectedSinceMs !== undefined ? iso(control.connectedSinceMs) : null,
      lastError: errorView(control?.lastError),
    },
    config: {
      version: config?.version ?? null,
      storeRevision: config?.storeRevision ?? null,
      ackedAt: control?.ackedAtMs !== undefined ? iso(control.ackedAtMs) : null,
      lastNack: control?.lastNack ? { version: control.lastNack.version, message: control.lastNack.message, at: iso(control.lastNack.atMs) } : null,
    },
    inForce: config ? config.describe() : null,
  };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function errorView(info: ErrorInfo | undefined): ErrorView | null {
  return info ? { message: info.message, code: info.code ?? null, at: iso(info.atMs) } : null;
}
