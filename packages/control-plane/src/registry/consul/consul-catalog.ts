import type { Logger } from '@weft/api';
import { BlockingQuery, type BlockingQueryTiming } from './consul-blocking-query';
import type { ConsulClient, HealthEntry } from './consul-client';

/** How the catalog watch is doing: `/ready`, metrics, `weftctl check` and the log read this. */
export interface CatalogHealth {
  /** Every watch's last read succeeded (false before the first answer, too). */
  readonly up: boolean;
  /** When every watch last had a good answer at once (0: never). */
  readonly lastSuccessMs: number;
  /** Failed reads since start. */
  readonly errors: number;
  /** The last failure's message ('' when up). */
  readonly lastError: string;
}

export interface ConsulCatalogOptions {
  readonly client: Pick<ConsulClient, 'healthService' | 'catalogServices' | 'address'>;
  readonly log: Logger;
  readonly timing?: Partial<BlockingQueryTiming>;
}

/**
 * Consul's catalog as seen through blocking reads: one on `/v1/catalog/services` to learn the
 * service names, and one per service on `/v1/health/service/:name`. Listeners hear when any
 * instance list changes. When Consul cannot be reached, the last lists stay (and `health()` says
 * so): an outage of Consul never withdraws endpoints.
 */
export class ConsulCatalog {
  readonly #options: ConsulCatalogOptions;
  readonly #services: BlockingQuery<string[]>;
  readonly #watches = new Map<string, BlockingQuery<HealthEntry[]>>();
  readonly #instances = new Map<string, readonly HealthEntry[]>();
  /** Watches whose last read failed, by name ('' for the service list), with the error. */
  readonly #failing = new Map<string, string>();
  /** Watches that have answered at least once. */
  readonly #answered = new Set<string>();
  readonly #listeners = new Set<() => void>();
  #errors = 0;
  #lastSuccessMs = 0;
  #closed = false;

  constructor(options: ConsulCatalogOptions) {
    this.#options = options;
    this.#services = new BlockingQuery({
      read: (index, waitMs, signal) => options.client.catalogServices(index, waitMs, signal),
      onValue: (names) => this.#ok('', () => this.#follow(names)),
      onError: (err, retryInMs) => this.#failed('', err, retryInMs),
      ...(options.timing ? { timing: options.timing } : {}),
    });
  }

  start(): void {
    this.#services.start();
  }

  /** Instances of every known service (passing or not), by Consul service name. */
  instances(): ReadonlyMap<string, readonly HealthEntry[]> {
    return this.#instances;
  }

  health(): CatalogHealth {
    const up = this.#failing.size === 0 && this.#answered.has('') && [...this.#watches.keys()].every((n) => this.#answered.has(n));
    return { up, lastSuccessMs: this.#lastSuccessMs, errors: this.#errors, lastError: up ? '' : ([...this.#failing.values()][0] ?? 'no answer from Consul yet') };
  }

  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#listeners.clear();
    await Promise.all([this.#services.stop(), ...[...this.#watches.values()].map((w) => w.stop())]);
  }

  /** Starts a watch for each new service name, stops those of names that went away. */
  #follow(names: readonly string[]): void {
    const wanted = new Set(names.filter((n) => n !== 'consul'));
    let changed = false;
    for (const [name, watch] of this.#watches) {
      if (wanted.has(name)) continue;
      void watch.stop();
      this.#watches.delete(name);
      this.#failing.delete(name);
      this.#answered.delete(name);
      changed = this.#instances.delete(name) || changed;
    }
    for (const name of wanted) {
      if (this.#watches.has(name)) continue;
      const watch = new BlockingQuery<HealthEntry[]>({
        read: (index, waitMs, signal) => this.#options.client.healthService(name, index, waitMs, signal),
        onValue: (entries) => this.#ok(name, () => this.#setInstances(name, entries)),
        onError: (err, retryInMs) => this.#failed(name, err, retryInMs),
        ...(this.#options.timing ? { timing: this.#options.timing } : {}),
      });
      this.#watches.set(name, watch);
      watch.start();
    }
    if (changed) this.#changed();
  }

  #setInstances(name: string, entries: readonly HealthEntry[]): void {
    if (!this.#watches.has(name)) return;
    const before = JSON.stringify(this.#instances.get(name) ?? []);
    const sorted = [...entries].sort((a, b) => a.serviceId.localeCompare(b.serviceId));
    if (JSON.stringify(sorted) === before) return;
    this.#instances.set(name, sorted);
    this.#changed();
  }

  #ok(name: string, apply: () => void): void {
    if (this.#closed) return;
    const wasUp = this.health().up;
    this.#answered.add(name);
    const recovered = this.#failing.delete(name);
    apply();
    if (this.#failing.size === 0) this.#lastSuccessMs = Date.now();
    if (recovered && this.#failing.size === 0) this.#options.log.info('Consul answers again: following its catalog', { consul: this.#options.client.address });
    if (wasUp !== this.health().up) this.#changed();
  }

  #failed(name: string, err: unknown, retryInMs: number): void {
    if (this.#closed) return;
    this.#errors += 1;
    const message = err instanceof Error ? err.message : String(err);
    const first = this.#failing.size === 0;
    this.#failing.set(name, message);
    const fields = { consul: this.#options.client.address, watch: name || 'catalog/services', error: message, retryInMs };
    // The first failure of an outage is a warning; the rest are debug lines, so an outage does not flood the log.
    if (first) this.#options.log.warn('Consul read failed: keeping the last known instances', fields);
    else this.#options.log.debug('Consul read failed', fields);
    if (first) this.#changed();
  }

  #changed(): void {
    for (const listener of this.#listeners) listener();
  }
}
