import type { CompiledConfig } from '../config/compiled-config';
import type { ControlState } from '../control/control-client';
import type { IdentityState } from '../control/identity-client';
import type { IdentityMaterial } from '../control/identity-material';
import type { IdleReleaseState } from '../memory/idle-release';
import type { LifecycleFacts } from './lifecycle-metrics';
import type { Readiness } from './server';

/** The sidecar's parts as the admin pages see them at one instant; any may still be missing. */
export interface StatusParts {
  readonly draining: boolean;
  readonly listenersUp: boolean;
  readonly identity: IdentityMaterial | undefined;
  readonly config: CompiledConfig | undefined;
  readonly identityState: IdentityState | undefined;
  readonly control: ControlState | undefined;
  readonly memory?: IdleReleaseState | undefined;
}

/**
 * Ready means: we can serve mesh traffic right now. The reasons are checked in the order an
 * operator would fix them, and the first one is reported.
 */
export function readinessOf(parts: StatusParts, now = Date.now()): Readiness {
  if (parts.draining) return { ready: false, reason: 'draining' };
  if (!parts.identity) return { ready: false, reason: 'no certificate yet (waiting for the control plane)' };
  if (parts.identity.expiresAtMs <= now) return { ready: false, reason: 'the certificate has expired and renewal is failing' };
  if (!parts.config) return { ready: false, reason: 'waiting for the first config from the control plane' };
  if (!parts.listenersUp) return { ready: false, reason: 'proxy listeners are not up' };
  return { ready: true };
}

/** What /config and the lifecycle gauges are built from. */
export function factsOf(parts: StatusParts): LifecycleFacts & { readonly readiness: Readiness } {
  const readiness = readinessOf(parts);
  const { identity, config, identityState, control, memory } = parts;
  return {
    readiness,
    ready: readiness.ready,
    draining: parts.draining,
    ...(identity ? { identity } : {}),
    ...(identityState ? { identityState } : {}),
    ...(control ? { control } : {}),
    ...(config ? { config } : {}),
    ...(memory ? { memory } : {}),
  };
}
