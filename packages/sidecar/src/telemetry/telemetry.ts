import type { EffectiveMeshConfig } from '@weft/api';
import type { SelfInfo } from '../self';

/**
 * CONTRACT: the sidecar's telemetry. Owns the Prometheus registry rendered on the admin port and
 * the OpenTelemetry tracer whose exporter follows MeshConfig.tracing.
 */
export class Telemetry {
  constructor(readonly self: SelfInfo) {}

  /** Called with every new config: switches the OTLP endpoint and sampling when they change. */
  configure(_mesh: EffectiveMeshConfig): void {}

  /** Sets a gauge by name (created on first use); for lifecycle facts such as certificate expiry. */
  setGauge(_name: string, _help: string, _value: number, _labels: Record<string, string> = {}): void {}

  /** Prometheus text exposition of every metric. */
  renderMetrics(): string {
    return '';
  }

  /** Flushes spans still buffered; never throws. */
  async shutdown(): Promise<void> {}
}
