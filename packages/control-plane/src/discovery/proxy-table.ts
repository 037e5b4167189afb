import type { ProxyStatus, Snapshot, WireNode } from '@weft/api';

/** Disconnected proxies stay listed this long, so `weftctl proxy-status` can show them as gone. */
export const DISCONNECTED_RETENTION_MS = 10 * 60_000;

/**
 * What the control plane knows about one sidecar. The table owns it: its stream reports through
 * the table's methods (`announced`, `sent`, `acked`, `nacked`, `disconnect`), everyone reads.
 */
export interface ProxyRecord {
  readonly node: WireNode;
  readonly spiffeId: string;
  readonly connected: boolean;
  readonly connectedSinceMs: number;
  readonly disconnectedAtMs: number;
  readonly sentVersion: string;
  readonly ackedVersion: string;
  readonly ackedAtMs: number;
  readonly lastNackVersion: string;
  readonly lastNackMessage: string;
  readonly lastNackAtMs: number;
  /** Fingerprints of the trust bundle in the newest snapshot it ACKed (what it trusts now). */
  readonly ackedTrustFingerprints: readonly string[];
  /**
   * The snapshot it ACKed, as sent (`weftctl proxy-config`, and the diff of `proxy-status PROXY`).
   * Snapshots are frozen and shared by every proxy of one service identity, so this holds a
   * reference, not a copy.
   */
  readonly ackedSnapshot: Snapshot | undefined;
}

/** What an ACK confirms: the proxy runs this version and trusts these roots. */
export interface Ack {
  readonly version: string;
  readonly trustFingerprints: readonly string[];
  readonly snapshot: Snapshot;
}

type Writable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * Every sidecar that is connected or was recently. A proxy that reconnects (same proxy id) gets
 * a fresh record from its new stream; the old stream's end no longer touches it.
 */
export class ProxyTable {
  readonly #records = new Map<string, { record: Writable<ProxyRecord>; owner: object }>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** A stream announced its proxy: a fresh record, owned by `owner` (the stream) until it disconnects. */
  connect(node: WireNode, spiffeId: string, owner: object): Readonly<ProxyRecord> {
    this.#prune();
    const record: Writable<ProxyRecord> = {
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

  /** The proxy announced itself again on the same stream (readiness, labels, certificate). */
  announced(node: WireNode, owner: object): void {
    const record = this.#owned(node.proxyId, owner);
    if (record) record.node = node;
  }

  /** A snapshot of `version` was written to the proxy. */
  sent(proxyId: string, owner: object, version: string): void {
    const record = this.#owned(proxyId, owner);
    if (record) record.sentVersion = version;
  }

  acked(proxyId: string, owner: object, ack: Ack): void {
    const record = this.#owned(proxyId, owner);
    if (!record) return;
    record.ackedVersion = ack.version;
    record.ackedAtMs = this.#now();
    record.ackedTrustFingerprints = ack.trustFingerprints;
    record.ackedSnapshot = ack.snapshot;
  }

  /** The proxy rejected `version` (and keeps running what it ACKed before). */
  nacked(proxyId: string, owner: object, version: string, message: string): void {
    const record = this.#owned(proxyId, owner);
    if (!record) return;
    record.lastNackVersion = version;
    record.lastNackMessage = message;
    record.lastNackAtMs = this.#now();
  }

  disconnect(proxyId: string, owner: object): void {
    const record = this.#owned(proxyId, owner);
    if (!record) return;
    record.connected = false;
    record.disconnectedAtMs = this.#now();
  }

  /** The record, if `owner` still owns it: a stream replaced by a reconnect no longer writes. */
  #owned(proxyId: string, owner: object): Writable<ProxyRecord> | undefined {
    const entry = this.#records.get(proxyId);
    return entry && entry.owner === owner ? entry.record : undefined;
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
