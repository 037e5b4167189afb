import type { ConnectProbeResult } from '@weft/api';
import { isRecord, readJsonFile } from '../bootstrap/data-dir';
import { JsonFileWriter } from '../bootstrap/json-file-writer';
import { canonicalJson } from '../store/canonical-json';

/** What a sidecar announces about its instance. */
export interface RegistryNode {
  readonly proxyId: string;
  readonly service: string;
  readonly namespace: string;
  readonly address: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly ready: boolean;
}

/**
 * connected: its stream is up. disconnected: its stream ended and the grace period runs.
 * unconfirmed: loaded from registry.json at start and not yet re-announced.
 */
export type EndpointState = 'connected' | 'disconnected' | 'unconfirmed';

export interface RegistryEndpoint extends RegistryNode {
  readonly state: EndpointState;
}

export interface ServiceEntry {
  readonly service: string;
  readonly namespace: string;
  /** Sorted by proxy id, so equal registries give equal snapshots. */
  readonly endpoints: readonly RegistryEndpoint[];
}

export interface RegistryOptions {
  readonly file: string;
  /** How long an endpoint outlives its stream (and how long a restart waits for re-announcements). */
  readonly graceMs: number;
  readonly persistDebounceMs?: number;
  /**
   * Asks whether anything listens at an endpoint's inbound address (registry/endpoint-probe).
   * Without it, every endpoint whose stream ended waits out the grace period.
   */
  readonly probe?: (address: string) => Promise<ConnectProbeResult>;
}

/** When to probe an endpoint whose stream ended: at once, then after these waits (the last repeats) until the grace ends. */
export const DEPARTURE_PROBE_DELAYS_MS: readonly number[] = Object.freeze([0, 500, 1_000, 2_000, 5_000]);

/**
 * Endpoints of every mesh service, as announced by connected sidecars. An endpoint whose stream
 * ends stays for the grace period (ready as it was), so that a sidecar reconnecting after a blip
 * or a control plane restart does not make callers drop it. Listeners hear only about changes
 * that callers can see (address, labels, readiness, endpoints coming and going).
 *
 * The grace is for what cannot be decided. When a stream to this process ends, its endpoint's
 * inbound address is probed (a TCP connect) at once and again for a few seconds: a refused
 * connection means the sidecar is gone (killed, its node lost), and the endpoint is withdrawn
 * then and there, so callers stop sending to it within seconds instead of after the grace. A
 * probe that connects or gets no answer decides nothing, and the grace runs on. Endpoints loaded
 * from registry.json after a restart are not probed: a restarted control plane waits the grace
 * for sidecars to come back, whatever it can see of them. A new sidecar announcing an address
 * that a departed one held replaces it at once (the same instance, restarted).
 */
export class Registry {
  readonly #graceMs: number;
  readonly #persistDebounceMs: number;
  readonly #writer: JsonFileWriter;
  readonly #entries = new Map<string, RegistryEndpoint>();
  readonly #owners = new Map<string, object>();
  readonly #expiry = new Map<string, NodeJS.Timeout>();
  readonly #probes = new Map<string, NodeJS.Timeout>();
  readonly #probe: ((address: string) => Promise<ConnectProbeResult>) | undefined;
  readonly #listeners = new Set<() => void>();
  #persistTimer: NodeJS.Timeout | undefined;
  #closed = false;

  private constructor(options: RegistryOptions) {
    this.#graceMs = options.graceMs;
    this.#persistDebounceMs = options.persistDebounceMs ?? 250;
    this.#writer = new JsonFileWriter(options.file);
    this.#probe = options.probe;
  }

  /** Loads the last known endpoints as unconfirmed: served, and dropped unless re-announced within the grace period. */
  static async open(options: RegistryOptions): Promise<Registry> {
    const registry = new Registry(options);
    const raw = await readJsonFile(options.file);
    const list = isRecord(raw) && Array.isArray(raw['endpoints']) ? (raw['endpoints'] as unknown[]) : [];
    for (const value of list) {
      const node = toNode(value);
      if (!node) continue;
      registry.#entries.set(node.proxyId, { ...node, state: 'unconfirmed' });
      registry.#expireLater(node.proxyId);
    }
    return registry;
  }

  /** A sidecar announced (or re-announced) itself on the stream `owner`. */
  announce(node: RegistryNode, owner: object): void {
    if (this.#closed) return;
    this.#owners.set(node.proxyId, owner);
    this.#cancelExpiry(node.proxyId);
    const before = this.#entries.get(node.proxyId);
    const entry: RegistryEndpoint = { ...(toNode(node) as RegistryNode), state: 'connected' };
    this.#entries.set(node.proxyId, entry);
    const replaced = this.#dropDepartedAt(entry.address, node.proxyId);
    if (replaced || !before || visible(before) !== visible(entry)) this.#changed();
  }

  /** The stream `owner` ended. Ignored if a newer stream has taken the proxy over. */
  withdraw(proxyId: string, owner: object): void {
    if (this.#closed || this.#owners.get(proxyId) !== owner) return;
    this.#owners.delete(proxyId);
    const entry = this.#entries.get(proxyId);
    if (!entry) return;
    this.#entries.set(proxyId, { ...entry, state: 'disconnected' });
    this.#expireLater(proxyId);
    if (this.#probe && entry.address) this.#probeLater(proxyId, entry.address, 0);
  }

  /** Drops an endpoint at once, without a grace period (its proxy was removed by the operator). */
  forget(proxyId: string): void {
    if (this.#closed) return;
    this.#owners.delete(proxyId);
    this.#cancelExpiry(proxyId);
    if (this.#entries.delete(proxyId)) this.#changed();
  }

  endpoints(): readonly RegistryEndpoint[] {
    return [...this.#entries.values()].sort((a, b) => a.proxyId.localeCompare(b.proxyId));
  }

  services(): readonly ServiceEntry[] {
    const byService = new Map<string, RegistryEndpoint[]>();
    for (const e of this.endpoints()) {
      const key = `${e.namespace}/${e.service}`;
      const list = byService.get(key) ?? [];
      list.push(e);
      byService.set(key, list);
    }
    return [...byService.keys()].sort().map((key) => {
      const endpoints = byService.get(key) as RegistryEndpoint[];
      const first = endpoints[0] as RegistryEndpoint;
      return { service: first.service, namespace: first.namespace, endpoints };
    });
  }

  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Stops timers and writes the current endpoints; later announcements and withdrawals are ignored. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const timer of [...this.#expiry.values(), ...this.#probes.values()]) clearTimeout(timer);
    this.#expiry.clear();
    this.#probes.clear();
    clearTimeout(this.#persistTimer);
    this.#listeners.clear();
    await this.#writer.write(this.#fileContent()).catch(() => undefined);
    await this.#writer.flush();
  }

  #expireLater(proxyId: string): void {
    this.#cancelExpiry(proxyId);
    const timer = setTimeout(() => {
      this.#expiry.delete(proxyId);
      if (this.#closed || this.#entries.get(proxyId)?.state === 'connected') return;
      this.#entries.delete(proxyId);
      this.#changed();
    }, this.#graceMs);
    timer.unref();
    this.#expiry.set(proxyId, timer);
  }

  #cancelExpiry(proxyId: string): void {
    clearTimeout(this.#expiry.get(proxyId));
    this.#expiry.delete(proxyId);
    clearTimeout(this.#probes.get(proxyId));
    this.#probes.delete(proxyId);
  }

  /** The `n`-th probe of a departed endpoint; a refusal withdraws it, anything else waits for the next. */
  #probeLater(proxyId: string, address: string, n: number): void {
    const delays = DEPARTURE_PROBE_DELAYS_MS;
    const timer = setTimeout(() => {
      this.#probes.delete(proxyId);
      const probe = this.#probe;
      if (!probe || !this.#departed(proxyId, address)) return;
      probe(address).then(
        (result) => {
          if (!this.#departed(proxyId, address)) return;
          if (result === 'refused') this.forget(proxyId);
          else this.#probeLater(proxyId, address, n + 1);
        },
        () => this.#departed(proxyId, address) && this.#probeLater(proxyId, address, n + 1),
      );
    }, delays[Math.min(n, delays.length - 1)]);
    timer.unref();
    this.#probes.set(proxyId, timer);
  }

  /** Whether `proxyId` is still the departed endpoint at `address` that a probe was started for. */
  #departed(proxyId: string, address: string): boolean {
    const entry = this.#entries.get(proxyId);
    return !this.#closed && entry?.state === 'disconnected' && entry.address === address;
  }

  /** Drops endpoints that are not connected and held `address`, now announced by `proxyId`; true if any. */
  #dropDepartedAt(address: string, proxyId: string): boolean {
    if (!address) return false;
    let dropped = false;
    for (const [id, e] of this.#entries) {
      if (id === proxyId || e.state === 'connected' || e.address !== address) continue;
      this.#entries.delete(id);
      this.#owners.delete(id);
      this.#cancelExpiry(id);
      dropped = true;
    }
    return dropped;
  }

  #changed(): void {
    this.#schedulePersist();
    for (const listener of this.#listeners) listener();
  }

  #schedulePersist(): void {
    if (this.#persistTimer) return;
    this.#persistTimer = setTimeout(() => {
      this.#persistTimer = undefined;
      // Best effort: registry.json only shortens the wait after a restart; the live registry is in memory.
      this.#writer.write(this.#fileContent()).catch(() => undefined);
    }, this.#persistDebounceMs);
    this.#persistTimer.unref();
  }

  #fileContent(): unknown {
    return { formatVersion: 1, savedAtMs: Date.now(), endpoints: this.endpoints().map((e) => toNode(e)) };
  }
}

function visible(e: RegistryNode): string {
  return canonicalJson(toNode(e));
}

function toNode(value: unknown): RegistryNode | undefined {
  if (!isRecord(value)) return undefined;
  const { proxyId, service, namespace, address, labels, ready } = value;
  if (typeof proxyId !== 'string' || typeof service !== 'string' || typeof namespace !== 'string' || typeof address !== 'string') return undefined;
  const cleanLabels: Record<string, string> = {};
  if (isRecord(labels)) for (const [k, v] of Object.entries(labels)) if (typeof v === 'string') cleanLabels[k] = v;
  return { proxyId, service, namespace, address, labels: cleanLabels, ready: ready === true };
}
