import type { ProxyStatus, Snapshot, WireNode } from '@weft/api';

/** Disconnected proxies stay listed this long, so `weftctl proxy-status` can show them as gone. */
export const DISCONNECTED_RETENTION_MS = 10 * 60_000;

/** What the control plane knows about one sidecar; mutated only by its own stream. */
export interface ProxyRecord {
  node: WireNode;
  readonly spiffeId: string;
  connected: boolean;
  connectedSinceMs: number;
  disconnectedAtMs: number;
  sentVersion: string;
  ackedVersion: string;
  ackedAtMs: number;
  lastNackVersion: string;
  lastNackMessage: string;
  lastNackAtMs: number;
  /** Fingerprints of the trust bundle in the newest snapshot it ACKed (what it trusts now). */
  ackedTrustFingerprints: readonly string[];
  /**
   * The snapshot it ACKed, as sent (`weftctl proxy-config`, and the diff of `proxy-status PROXY`).
   * Snapshots are frozen and shared by every proxy of one service identity, so this holds a
   * reference, not a copy.
   */
  ackedSnapshot: Snapshot | undefined;
}

/**
 * Every sidecar that is connected or was recently. A proxy that reconnects (same proxy id) gets
 * a fresh record from its new stream; the old stream's end no longer touches it.
 */
export class ProxyTable {
  readonly #records = new Map<string, { record: ProxyRecord; owner: object }>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  connect(node: WireNode, spiffeId: string, owner: object): ProxyRecord {
    this.#prune();
    const record: ProxyRecord = {
      node,
      spiffeId,
      connected: true,
      connectedSinceMs: this.#now(),
      disconnectedAtMs: 0,
      sentVersion: '',
      ackedVersion: '',
      ackedAtMs: 0,
      lastNackVersion: '',
      lastNackMessage: '',
      lastNackAtMs: 0,
      ackedTrustFingerprints: [],
      ackedSnapshot: undefined,
    };
    this.#records.set(node.proxyId, { record, owner });
    return record;
  }

  disconnect(proxyId: string, owner: object): void {
    const entry = this.#records.get(proxyId);
    if (!entry || entry.owner !== owner) return;
    entry.record.connected = false;
    entry.record.disconnectedAtMs = this.#now();
  }

  get connectedCount(): number {
    let n = 0;
    for (const { record } of this.#records.values()) if (record.connected) n++;
    return n;
  }

  /** Every record, connected or recently gone; read-only to the caller (a root rotation reads them). */
  records(): readonly Readonly<ProxyRecord>[] {
    this.#prune();
    return [...this.#records.values()].map(({ record }) => record);
  }

  /** One record by its full proxy id, connected or recently gone. */
  get(proxyId: string): Readonly<ProxyRecord> | undefined {
    this.#prune();
    return this.#records.get(proxyId)?.record;
  }

  list(): ProxyStatus[] {
    this.#prune();
    return [...this.#records.values()]
      .map(({ record }) => proxyStatusOf(record))
      .sort((a, b) => a.namespace.localeCompare(b.namespace) || a.service.localeCompare(b.service) || a.proxyId.localeCompare(b.proxyId));
  }

  #prune(): void {
    const cutoff = this.#now() - DISCONNECTED_RETENTION_MS;
    for (const [id, { record }] of this.#records) {
      if (!record.connected && record.disconnectedAtMs < cutoff) this.#records.delete(id);
    }
  }
}

export function proxyStatusOf(r: Readonly<ProxyRecord>): ProxyStatus {
  return {
    proxyId: r.node.proxyId,
    spiffeId: r.spiffeId,
    service: r.node.service,
    namespace: r.node.namespace,
    address: r.node.address,
    labels: { ...r.node.labels },
    connected: r.connected,
    connectedSinceMs: r.connectedSinceMs,
    disconnectedAtMs: r.disconnectedAtMs,
    sentVersion: r.sentVersion,
    ackedVersion: r.ackedVersion,
    ackedAtMs: r.ackedAtMs,
    lastNackVersion: r.lastNackVersion,
    lastNackMessage: r.lastNackMessage,
    lastNackAtMs: r.lastNackAtMs,
    certificateExpiresAtMs: r.node.certificateExpiresAtMs,
    certificateRootFingerprint: r.node.certificateRootFingerprint ?? '',
    certificateSerial: r.node.certificateSerial ?? '',
    ready: r.node.ready,
    proxyVersion: r.node.proxyVersion,
  };
}
