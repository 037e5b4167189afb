/** Live values read when /metrics is scraped. */
export interface MetricGauges {
  readonly connectedProxies: () => number;
  readonly storeRevision: () => number;
  readonly endpoints: () => number;
  /** 1 while the store takes writes (always with the file store), 0 while etcd is out of reach. */
  readonly storeAvailable?: () => number;
}

interface Counter {
  readonly name: string;
  readonly help: string;
  value: number;
}

/**
 * The control plane's Prometheus metrics, all `weft_cp_`-prefixed. Counters are plain fields:
 * the control plane is one process and its hot paths are a handful of increments per push.
 */
export class Metrics {
  readonly #pushes = counter('weft_cp_pushes_total', 'Snapshots sent to sidecars.');
  readonly #acks = counter('weft_cp_acks_total', 'Snapshots sidecars accepted.');
  readonly #nacks = counter('weft_cp_nacks_total', 'Snapshots sidecars rejected (they keep their last good config).');
  readonly #certificates = counter('weft_cp_certificates_issued_total', 'Workload certificates signed (first issue and renewals).');
  /** By `rpc\0reason`: both come from fixed sets (method names, WEFT_ERR_* codes), so the series are bounded. */
  readonly #refusals = new Map<string, number>();
  /** By verification state an endpoint's address moved to (verified, unverified, refused). */
  readonly #verifications = new Map<string, number>();
  readonly #gauges: MetricGauges;

  constructor(gauges: MetricGauges) {
    this.#gauges = gauges;
  }

  pushed(): void {
    this.#pushes.value++;
  }

  acked(): void {
    this.#acks.value++;
  }

  nacked(): void {
    this.#nacks.value++;
  }

  certificateIssued(): void {
    this.#certificates.value++;
  }

  refused(rpc: string, reason: string): void {
    const key = `${rpc}\0${reason}`;
    this.#refusals.set(key, (this.#refusals.get(key) ?? 0) + 1);
  }

  verification(state: string): void {
    this.#verifications.set(state, (this.#verifications.get(state) ?? 0) + 1);
  }

  /** Prometheus text exposition format 0.0.4. */
  render(): string {
    const lines: string[] = [];
    const gauge = (name: string, help: string, value: number): void => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`, `${name} ${value}`);
    };
    gauge('weft_cp_connected_proxies', 'Sidecars with an open discovery stream.', this.#gauges.connectedProxies());
    gauge('weft_cp_store_revision', 'Revision of the policy store.', this.#gauges.storeRevision());
    gauge('weft_cp_store_available', 'Whether the store takes writes (0: etcd out of reach; this replica serves what it has).', this.#gauges.storeAvailable?.() ?? 1);
    gauge('weft_cp_registry_endpoints', 'Endpoints in the service registry (including those in their grace period).', this.#gauges.endpoints());
    for (const c of [this.#pushes, this.#acks, this.#nacks, this.#certificates]) {
      lines.push(`# HELP ${c.name} ${c.help}`, `# TYPE ${c.name} counter`, `${c.name} ${c.value}`);
    }
    lines.push('# HELP weft_cp_refusals_total Calls refused, by RPC and stable error code (the control plane log has who).', '# TYPE weft_cp_refusals_total counter');
    for (const [key, value] of this.#refusals) {
      const [rpc, reason] = key.split('\0') as [string, string];
      lines.push(`weft_cp_refusals_total{rpc="${rpc}",reason="${reason}"} ${value}`);
    }
    lines.push('# HELP weft_cp_endpoint_verifications_total Announced addresses dialed and found to serve the proxy\'s identity (verified), another one (refused), or nothing decidable yet (unverified).', '# TYPE weft_cp_endpoint_verifications_total counter');
    for (const [state, value] of this.#verifications) lines.push(`weft_cp_endpoint_verifications_total{result="${state}"} ${value}`);
    return `${lines.join('\n')}\n`;
  }
}

function counter(name: string, help: string): Counter {
  return { name, help, value: 0 };
}
