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
}

/**
 * Endpoints of every mesh service, as announced by connected sidecars. An endpoint whose stream
 * ends stays for the grace period (ready as it was), so that a sidecar reconnecting after a blip
 * or a control plane restart does not make callers drop it. Listeners hear only about changes
 * that callers can see (address, labels, readiness, endpoints coming and going).
 */
export class Registry {
  readonly #graceMs: number;
  readonly #persistDebounceMs: number;
  readonly #writer: JsonFileWriter;
  readonly #entries = new Map<string, RegistryEndpoint>();
  readonly #owners = new Map<string, object>();
  readonly #expiry = new Map<string, NodeJS.Timeout>();
  readonly #listeners = new Set<() => void>();
  #persistTimer: NodeJS.Timeout | undefined;
  #closed = false;

  private constructor(options: RegistryOptions) {
    this.#graceMs = options.graceMs;
    this.#persistDebounceMs = options.persistDebounceMs ?? 250;
    this.#writer = new JsonFileWriter(options.file);
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
    if (!before || visible(before) !== visible(entry)) this.#changed();
  }

  /** The stream `owner` ended. Ignored if a newer stream has taken the proxy over. */
  withdraw(proxyId: string, owner: object): void {
    if (this.#closed || this.#owners.get(proxyId) !== owner) return;
    this.#owners.delete(proxyId);
    const entry = this.#entries.get(proxyId);
    if (!entry) return;
    this.#entries.set(proxyId, { ...entry, state: 'disconnected' });
    this.#expireLater(proxyId);
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
    for (const timer of this.#expiry.values()) clearTimeout(timer);
    this.#expiry.clear();
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
