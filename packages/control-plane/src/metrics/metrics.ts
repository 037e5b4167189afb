import { countProcess, Registry, type Counter, type CounterSeries, type Histogram, type RegistryStatus } from '@weft/api';

/** Live values read when /metrics is scraped. */
export interface MetricGauges {
  readonly connectedProxies: () => number;
  readonly storeRevision: () => number;
  readonly endpoints: () => number;
  /** An external registry's state (--registry consul); undefined when there is none. */
  readonly registry?: () => RegistryStatus | undefined;
  /** 1 while the store takes writes (always with the file store), 0 while etcd is out of reach. */
  readonly storeAvailable?: () => number;
}

/** Push round trips: a local ACK takes a millisecond, a sidecar compiling a large snapshot seconds. */
const PUSH_BUCKETS: readonly number[] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * The control plane's Prometheus metrics, all `weft_cp_`-prefixed, plus the standard `process_*`
 * ones. Label values come from fixed sets (RPC names, WEFT_ERR_* codes, verification states,
 * how a certificate was asked for), so the number of series is bounded.
 */
export class Metrics {
  readonly #registry = new Registry();
  readonly #pushes: CounterSeries;
  readonly #acks: CounterSeries;
  readonly #nacks: CounterSeries;
  readonly #pushAnswered: Histogram;
  readonly #certificates: Counter;
  readonly #tokensUsed: CounterSeries;
  readonly #refusals: Counter;
  readonly #verifications: Counter;

  constructor(gauges: MetricGauges) {
    const r = this.#registry;
    const connected = r.gauge('weft_cp_connected_proxies', 'Sidecars with an open discovery stream.');
    const revision = r.gauge('weft_cp_store_revision', 'Revision of the policy store.');
    const endpoints = r.gauge('weft_cp_registry_endpoints', 'Endpoints in the service registry (including those in their grace period).');
    const storeAvailable = r.gauge('weft_cp_store_available', 'Whether the store takes writes (0: etcd out of reach; this replica serves what it has).');
    r.beforeRender(() => {
      storeAvailable.set({}, gauges.storeAvailable?.() ?? 1);
      connected.set({}, gauges.connectedProxies());
      revision.set({}, gauges.storeRevision());
      endpoints.set({}, gauges.endpoints());
    });
    if (gauges.registry) this.#externalRegistry(gauges.registry);
    this.#pushes = r.counter('weft_cp_pushes_total', 'Snapshots sent to sidecars.').bind({});
    this.#acks = r.counter('weft_cp_acks_total', 'Snapshots sidecars accepted.').bind({});
    this.#nacks = r.counter('weft_cp_nacks_total', 'Snapshots sidecars rejected (they keep their last good config).').bind({});
    this.#pushAnswered = r.histogram(
      'weft_cp_push_duration_seconds',
      'From writing a snapshot to the sidecar\'s ACK or NACK of it (the sidecar compiled it and swapped it in, or refused it), by result.',
      PUSH_BUCKETS,
    );
    this.#certificates = r.counter('weft_cp_certificates_issued_total', 'Workload certificates signed, by how they were asked for (join-token: first issue; renewal).');
    this.#tokensUsed = r.counter('weft_cp_tokens_used_total', 'Join tokens redeemed for a first certificate.').bind({});
    this.#refusals = r.counter('weft_cp_refusals_total', 'Calls refused, by RPC and stable error code (the control plane log has who).');
    this.#verifications = r.counter(
      'weft_cp_endpoint_verifications_total',
      "Announced addresses dialed and found to serve the proxy's identity (verified), another one (refused), or nothing decidable yet (unverified).",
    );
    countProcess(r);
  }

  pushed(): void {
    this.#pushes.inc();
  }

  /** An ACK of a snapshot written `seconds` ago. */
  acked(seconds: number): void {
    this.#acks.inc();
    this.#pushAnswered.observe({ result: 'ack' }, seconds);
  }

  /** A NACK of a snapshot written `seconds` ago. */
  nacked(seconds: number): void {
    this.#nacks.inc();
    this.#pushAnswered.observe({ result: 'nack' }, seconds);
  }

  certificateIssued(via: 'join-token' | 'renewal'): void {
    this.#certificates.inc({ via });
    if (via === 'join-token') this.#tokensUsed.inc();
  }

  refused(rpc: string, reason: string): void {
    this.#refusals.inc({ rpc, reason });
  }

  verification(state: string): void {
    this.#verifications.inc({ result: state });
  }

  /** Prometheus text exposition format 0.0.4. */
  /** An external registry's health (--registry consul), read at scrape time. */
  #externalRegistry(status: () => RegistryStatus | undefined): void {
    const r = this.#registry;
    const up = r.gauge('weft_cp_registry_up', 'Whether every read of the external registry last succeeded (0: serving the last known instances).');
    const errors = r.counter('weft_cp_registry_sync_errors_total', 'Failed reads of the external registry.');
    const lastSuccess = r.gauge('weft_cp_registry_last_success_timestamp_seconds', 'When every read of the external registry last succeeded (0: never).');
    const instances = r.gauge('weft_cp_registry_instances', 'Instances the external registry lists, in the mesh (Weft meta) or not.');
    r.beforeRender(() => {
      const now = status();
      if (!now) return;
      const source = { source: now.source };
      up.set(source, now.up ? 1 : 0);
      errors.bind(source).value = now.errors;
      lastSuccess.set(source, now.lastSuccessMs / 1000);
      instances.set({ ...source, mesh: 'true' }, now.meshInstances);
      instances.set({ ...source, mesh: 'false' }, now.otherInstances);
    });
  }

  render(): string {
    return this.#registry.render();
  }
}
