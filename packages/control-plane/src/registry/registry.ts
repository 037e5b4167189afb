import type { ConnectProbeResult } from '@weft/api';
import { isRecord, readJsonFile } from '../bootstrap/data-dir';
import { JsonFileWriter } from '../bootstrap/json-file-writer';
import { canonicalJson } from '../store/canonical-json';
import type { AddressVerifier, VerifyOutcome } from './endpoint-verify';

/** What a sidecar announces about its instance. */
export interface RegistryNode {
  readonly proxyId: string;
  readonly service: string;
  readonly namespace: string;
  readonly address: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly ready: boolean;
  /** The app's port on the host of `address`; 0 when not announced (older sidecars). */
  readonly appPort?: number;
}

/**
 * connected: its stream is up. disconnected: its stream ended and the grace period runs.
 * unconfirmed: loaded from registry.json at start and not yet re-announced. catalog: listed by
 * Consul's catalog only (registry/consul), never announced on a stream to this control plane.
 */
export type EndpointState = 'connected' | 'disconnected' | 'unconfirmed' | 'catalog';

/**
 * Whether the announced address was shown to serve the announcing proxy's identity. Only
 * `verified` endpoints are published to callers. verifying: the first dial is under way;
 * unverified: dials decided nothing yet (retried with backoff); refused: the address serves
 * another identity (retried slowly, in case it changes hands). consul: listed by Consul's catalog
 * and published without a dial (callers check the peer's identity on every connection).
 */
export type AddressVerification = 'verified' | 'verifying' | 'unverified' | 'refused' | 'consul';

export interface RegistryEndpoint extends RegistryNode {
  readonly state: EndpointState;
  readonly verification: AddressVerification;
  /** Why it is not verified ('' when it is). */
  readonly verificationDetail: string;
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
  /**
   * Checks an announced address before it is published (registry/endpoint-verify). Without it,
   * every announced address is published at once.
   */
  readonly verify?: AddressVerifier;
  /** Told about each change of an endpoint's verification (for the log and metrics). */
  readonly onVerification?: (endpoint: RegistryEndpoint, outcome: VerifyOutcome) => void;
}

/** When to dial an announced address again after a dial that decided nothing (the last repeats). */
export const VERIFY_RETRY_DELAYS_MS: readonly number[] = Object.freeze([100, 250, 500, 1_000, 2_000, 5_000, 10_000, 30_000]);

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
  /**
   * Proxy ids by address (every state), kept by #put and #remove: a verified announcement looks
   * for departed endpoints at its address, and scanning every entry for that made a fleet joining
   * (or coming back after a restart) cost O(N^2).
   */
  readonly #byAddress = new Map<string, Set<string>>();
  readonly #owners = new Map<string, object>();
  readonly #expiry = new Map<string, NodeJS.Timeout>();
  readonly #probes = new Map<string, NodeJS.Timeout>();
  readonly #probe: ((address: string) => Promise<ConnectProbeResult>) | undefined;
  readonly #verify: AddressVerifier | undefined;
  readonly #onVerification: ((endpoint: RegistryEndpoint, outcome: VerifyOutcome) => void) | undefined;
  /** Verification dials scheduled or under way, by proxy id, with the address they are for. */
  readonly #verifying = new Map<string, { readonly address: string; timer: NodeJS.Timeout | undefined }>();
  readonly #listeners = new Set<() => void>();
  #persistTimer: NodeJS.Timeout | undefined;
  #closed = false;

  private constructor(options: RegistryOptions) {
    this.#graceMs = options.graceMs;
    this.#persistDebounceMs = options.persistDebounceMs ?? 250;
    this.#writer = new JsonFileWriter(options.file);
    this.#probe = options.probe;
    this.#verify = options.verify;
    this.#onVerification = options.onVerification;
  }

  /** Loads the last known endpoints as unconfirmed: served, and dropped unless re-announced within the grace period. */
  static async open(options: RegistryOptions): Promise<Registry> {
    const registry = new Registry(options);
    const raw = await readJsonFile(options.file);
    const list = isRecord(raw) && Array.isArray(raw['endpoints']) ? (raw['endpoints'] as unknown[]) : [];
    for (const value of list) {
      const node = toNode(value);
      if (!node) continue;
      // Files from before verification hold only endpoints that were published: they stay so.
      const verified = !isRecord(value) || value['verified'] !== false;
      registry.#put(node.proxyId, { ...node, state: 'unconfirmed', verification: verified ? 'verified' : 'unverified', verificationDetail: verified ? '' : 'not verified before the restart' });
      registry.#expireLater(node.proxyId);
    }
    return registry;
  }

  /**
   * A sidecar announced (or re-announced) itself on the stream `owner`; `identity` is the SPIFFE
   * ID its certificate proved, which its address must serve before it is published. An address
   * already verified for this proxy stays verified (a readiness or label change re-announces).
   */
  announce(node: RegistryNode, owner: object, identity = ''): void {
    if (this.#closed) return;
    this.#owners.set(node.proxyId, owner);
    this.#cancelExpiry(node.proxyId);
    const before = this.#entries.get(node.proxyId);
    const sameAddress = before?.address === node.address;
    const pending = this.#verifying.get(node.proxyId);
    const keep = sameAddress && (before.verification === 'verified' || pending?.address === node.address);
    const verification: Pick<RegistryEndpoint, 'verification' | 'verificationDetail'> =
      !this.#verify || !node.address ? { verification: 'verified', verificationDetail: '' }
      : keep ? { verification: before.verification, verificationDetail: before.verificationDetail }
      : { verification: 'verifying', verificationDetail: 'the control plane is dialing the address' };
    const entry: RegistryEndpoint = { ...(toNode(node) as RegistryNode), state: 'connected', ...verification };
    this.#put(node.proxyId, entry);
    if (!keep && entry.verification !== 'verified') this.#verifyLater(node.proxyId, entry.address, identity, 0);
    // Only a verified address may displace a departed endpoint: otherwise anyone could evict one by announcing its address.
    const replaced = entry.verification === 'verified' && this.#dropDepartedAt(entry.address, node.proxyId);
    if (replaced || !before || visible(before) !== visible(entry)) this.#changed();
  }

  /** One endpoint by proxy id, published or not. */
  endpoint(proxyId: string): RegistryEndpoint | undefined {
    return this.#entries.get(proxyId);
  }

  /** The stream `owner` ended. Ignored if a newer stream has taken the proxy over. */
  withdraw(proxyId: string, owner: object): void {
    if (this.#closed || this.#owners.get(proxyId) !== owner) return;
    this.#owners.delete(proxyId);
    const entry = this.#entries.get(proxyId);
    if (!entry) return;
    this.#put(proxyId, { ...entry, state: 'disconnected' });
    this.#cancelVerify(proxyId);
    this.#expireLater(proxyId);
    if (this.#probe && entry.address) this.#probeLater(proxyId, entry.address, 0);
  }

  /** Drops an endpoint at once, without a grace period (its proxy was removed by the operator). */
  forget(proxyId: string): void {
    if (this.#closed) return;
    this.#owners.delete(proxyId);
    this.#cancelExpiry(proxyId);
    this.#cancelVerify(proxyId);
    if (this.#remove(proxyId)) this.#changed();
  }

  endpoints(): readonly RegistryEndpoint[] {
    return [...this.#entries.values()].sort((a, b) => a.proxyId.localeCompare(b.proxyId));
  }

  /**
   * Endpoints by service. `published`: only verified ones, what callers are sent; otherwise all,
   * what `weftctl get services` shows (with each one's verification).
   */
  services(options: { readonly published?: boolean } = {}): readonly ServiceEntry[] {
    const byService = new Map<string, RegistryEndpoint[]>();
    for (const e of this.endpoints()) {
      if (options.published && e.verification !== 'verified') continue;
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
    for (const id of [...this.#verifying.keys()]) this.#cancelVerify(id);
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
      this.#remove(proxyId);
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

  /** The `n`-th dial of an announced address: at once, then with backoff until it is decided. */
  #verifyLater(proxyId: string, address: string, identity: string, n: number): void {
    this.#cancelVerify(proxyId);
    const verify = this.#verify;
    if (!verify) return;
    const attempt = { address, timer: undefined as NodeJS.Timeout | undefined };
    this.#verifying.set(proxyId, attempt);
    const delay = n === 0 ? 0 : (VERIFY_RETRY_DELAYS_MS[Math.min(n - 1, VERIFY_RETRY_DELAYS_MS.length - 1)] as number);
    attempt.timer = setTimeout(() => {
      attempt.timer = undefined;
      verify(address, identity).then(
        (outcome) => this.#verified(proxyId, address, identity, n, outcome, attempt),
        (err: unknown) => this.#verified(proxyId, address, identity, n, { result: 'undecided', detail: err instanceof Error ? err.message : String(err) }, attempt),
      );
    }, delay);
    attempt.timer.unref();
  }

  #verified(proxyId: string, address: string, identity: string, n: number, outcome: VerifyOutcome, attempt: object): void {
    const entry = this.#entries.get(proxyId);
    // A newer announcement, a departure or close made this dial moot.
    if (this.#closed || this.#verifying.get(proxyId) !== attempt || !entry || entry.address !== address || entry.state !== 'connected') return;
    this.#verifying.delete(proxyId);
    const next: RegistryEndpoint =
      outcome.result === 'verified' ? { ...entry, verification: 'verified', verificationDetail: '' }
      : { ...entry, verification: outcome.result === 'mismatch' ? 'refused' : 'unverified', verificationDetail: outcome.detail };
    this.#put(proxyId, next);
    if (outcome.result !== 'verified') this.#verifyLater(proxyId, address, identity, outcome.result === 'mismatch' ? VERIFY_RETRY_DELAYS_MS.length : n + 1);
    if (visible(entry) === visible(next)) return;
    if (outcome.result === 'verified') this.#dropDepartedAt(address, proxyId);
    this.#onVerification?.(next, outcome);
    this.#changed();
  }

  #cancelVerify(proxyId: string): void {
    const attempt = this.#verifying.get(proxyId);
    if (!attempt) return;
    clearTimeout(attempt.timer);
    this.#verifying.delete(proxyId);
  }

  /** Whether `proxyId` is still the departed endpoint at `address` that a probe was started for. */
  #departed(proxyId: string, address: string): boolean {
    const entry = this.#entries.get(proxyId);
    return !this.#closed && entry?.state === 'disconnected' && entry.address === address;
  }

  /** Drops endpoints that are not connected and held `address`, now announced by `proxyId`; true if any. */
  #dropDepartedAt(address: string, proxyId: string): boolean {
    const atAddress = address ? this.#byAddress.get(address) : undefined;
    if (!atAddress || atAddress.size < 2) return false;
    let dropped = false;
    for (const id of [...atAddress]) {
      if (id === proxyId || this.#entries.get(id)?.state === 'connected') continue;
      this.#remove(id);
      this.#owners.delete(id);
      this.#cancelExpiry(id);
      dropped = true;
    }
    return dropped;
  }

  /** Sets an entry and keeps the address index. */
  #put(proxyId: string, entry: RegistryEndpoint): void {
    const before = this.#entries.get(proxyId);
    if (before && before.address !== entry.address) this.#unindex(proxyId, before.address);
    this.#entries.set(proxyId, entry);
    let ids = this.#byAddress.get(entry.address);
    if (!ids) this.#byAddress.set(entry.address, (ids = new Set()));
    ids.add(proxyId);
  }

  /** Deletes an entry and its place in the address index; whether there was one. */
  #remove(proxyId: string): boolean {
    const before = this.#entries.get(proxyId);
    if (!before) return false;
    this.#entries.delete(proxyId);
    this.#unindex(proxyId, before.address);
    return true;
  }

  #unindex(proxyId: string, address: string): void {
    const ids = this.#byAddress.get(address);
    ids?.delete(proxyId);
    if (ids?.size === 0) this.#byAddress.delete(address);
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
      // Built when the write begins (no copy per call): the file holds every endpoint.
      this.#writer.writeLatest(() => this.#fileContent()).catch(() => undefined);
    }, this.#persistDebounceMs);
    this.#persistTimer.unref();
  }

  #fileContent(): unknown {
    return { formatVersion: 1, savedAtMs: Date.now(), endpoints: this.endpoints().map((e) => ({ ...toNode(e), verified: e.verification === 'verified' })) };
  }
}

/** What callers and `weftctl get services` can see of an endpoint: a change of it is pushed. */
function visible(e: RegistryEndpoint): string {
  return canonicalJson({ ...toNode(e), verification: e.verification, verificationDetail: e.verificationDetail });
}

function toNode(value: unknown): RegistryNode | undefined {
  if (!isRecord(value)) return undefined;
  const { proxyId, service, namespace, address, labels, ready, appPort } = value;
  if (typeof proxyId !== 'string' || typeof service !== 'string' || typeof namespace !== 'string' || typeof address !== 'string') return undefined;
  const cleanLabels: Record<string, string> = {};
  if (isRecord(labels)) for (const [k, v] of Object.entries(labels)) if (typeof v === 'string') cleanLabels[k] = v;
  const port = typeof appPort === 'number' && Number.isInteger(appPort) && appPort > 0 && appPort <= 65535 ? appPort : 0;
  return { proxyId, service, namespace, address, labels: cleanLabels, ready: ready === true, appPort: port };
}
