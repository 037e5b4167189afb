import type { CompiledConfig } from '../config/compiled-config';
import type { ControlState } from '../control/control-client';
import type { IdentityState } from '../control/identity-client';
import type { IdentityMaterial } from '../control/identity-material';
import type { IdleReleaseState } from '../memory/idle-release';
import type { Telemetry } from '../telemetry/telemetry';

export interface LifecycleFacts {
  readonly ready: boolean;
  readonly draining: boolean;
  readonly identity?: IdentityMaterial;
  readonly identityState?: IdentityState;
  readonly control?: ControlState;
  readonly config?: CompiledConfig;
  readonly memory?: IdleReleaseState;
}

/**
 * Lifecycle gauges (certificate, control plane, config version, readiness). Refreshed from the
 * current state right before each scrape, so they can never lag behind what /config shows.
 */
export class LifecycleMetrics {
  readonly #telemetry: Telemetry;
  #version: string | undefined;

  constructor(telemetry: Telemetry) {
    this.#telemetry = telemetry;
  }

  update(facts: LifecycleFacts): void {
    const t = this.#telemetry;
    t.setGauge('weft_ready', 'Whether the sidecar reports ready (1) or not (0).', facts.ready ? 1 : 0);
    t.setGauge('weft_draining', 'Whether the sidecar is draining after SIGTERM.', facts.draining ? 1 : 0);
    if (facts.identity) {
      t.setGauge('weft_certificate_expiry_timestamp_seconds', 'When the current workload certificate expires (Unix seconds).', facts.identity.expiresAtMs / 1000);
      t.setGauge('weft_trust_bundle_roots', 'Roots in the trust bundle in use.', facts.identity.trustBundlePem.length);
    }
    if (facts.identityState) {
      t.setGauge('weft_certificate_renewal_failures', 'Consecutive failed certificate renewals (0 when the last one succeeded).', facts.identityState.consecutiveFailures);
    }
    if (facts.control) {
      t.setGauge('weft_control_plane_connected', 'Whether the discovery stream to the control plane is up.', facts.control.connected ? 1 : 0);
      t.setTotal('weft_config_acks_total', 'Pushed configs accepted and put in force (ACK).', facts.control.acks);
      t.setTotal('weft_config_nacks_total', 'Pushed configs rejected (NACK); the previous config stays in force.', facts.control.nacks);
      if (facts.control.lastNack) {
        t.setGauge('weft_config_last_nack_timestamp_seconds', 'When the last pushed config was rejected (Unix seconds).', facts.control.lastNack.atMs / 1000);
      }
    }
    if (facts.memory) {
      const m = facts.memory;
      t.setTotal('weft_sidecar_memory_released_total', 'Times the sidecar gave memory back after going idle (a full collection and malloc_trim, once per idle period).', m.releases);
      t.setTotal('weft_sidecar_memory_released_bytes_total', 'How much resident memory (VmRSS) those releases gave back, summed, in bytes.', m.rssReleasedBytes);
      t.setTotal('weft_sidecar_memory_release_seconds_total', 'Main-thread time those releases took, summed (they run only with no request in flight).', m.releaseSeconds);
      t.setTotal('weft_sidecar_malloc_trims_total', "Times malloc's free pages were given back a few seconds after a burst (malloc_trim alone, once per quiet spell).", m.trims);
      t.setTotal('weft_sidecar_malloc_trimmed_bytes_total', 'How much resident memory (VmRSS) those trims gave back, summed, in bytes.', m.rssTrimmedBytes);
      t.setTotal('weft_sidecar_malloc_trim_seconds_total', 'Main-thread time those trims took, summed (they run only with no request in flight).', m.trimSeconds);
    }
    const version = facts.config?.version;
    if (version !== undefined && version !== this.#version) {
      // An _info gauge carries its value in a label: exactly one series, the version in force.
      if (this.#version !== undefined) t.removeGauge('weft_config_version_info', { version: this.#version });
      this.#version = version;
    }
    if (this.#version !== undefined) t.setGauge('weft_config_version_info', 'The config version in force (label version).', 1, { version: this.#version });
  }
}
