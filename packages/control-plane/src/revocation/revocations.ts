import { isRecord, readJsonFile } from '../bootstrap/data-dir';
import { JsonFileWriter } from '../bootstrap/json-file-writer';

/** A proxy the operator removed, and every certificate serial it held. */
export interface RemovedProxy {
  readonly proxyId: string;
  readonly spiffeId: string;
  readonly removedAtMs: number;
  readonly serials: readonly string[];
  /** When the last of those certificates expires. */
  readonly untilMs: number;
}

/**
 * A removed proxy id stays refused this long after its last certificate expires: a sidecar
 * process that outlived its certificate retries with its join token under the same proxy id.
 */
const KEEP_AFTER_EXPIRY_MS = 30 * 86_400_000;

/**
 * Removed proxies (`revocations.json`). Their serials are refused for renewal and for discovery
 * streams; their proxy ids for signing at all. Nothing here reaches other sidecars: a removed
 * proxy's certificate keeps working for mTLS between sidecars until it expires, which is why
 * workload certificates are short-lived.
 */
export class Revocations {
  readonly #writer: JsonFileWriter;
  readonly #now: () => number;
  readonly #proxies = new Map<string, RemovedProxy>();
  #serials = new Set<string>();

  private constructor(file: string, now: () => number) {
    this.#writer = new JsonFileWriter(file);
    this.#now = now;
  }

  static async open(file: string, now: () => number = Date.now): Promise<Revocations> {
    const revocations = new Revocations(file, now);
    const raw = await readJsonFile(file);
    const list = isRecord(raw) && Array.isArray(raw['proxies']) ? (raw['proxies'] as unknown[]) : [];
    for (const value of list) if (isRemoved(value)) revocations.#proxies.set(value.proxyId, { ...value, serials: [...value.serials] });
    revocations.#reindex();
    return revocations;
  }

  async removeProxy(entry: RemovedProxy): Promise<void> {
    const before = this.#proxies.get(entry.proxyId);
    const serials = [...new Set([...(before?.serials ?? []), ...entry.serials])];
    this.#proxies.set(entry.proxyId, { ...entry, serials, untilMs: Math.max(entry.untilMs, before?.untilMs ?? 0) });
    this.#reindex();
    await this.#writer.write({ formatVersion: 1, proxies: [...this.#proxies.values()] });
  }

  isProxyRemoved(proxyId: string): boolean {
    return proxyId !== '' && this.#proxies.has(proxyId);
  }

  isSerialRevoked(serial: string): boolean {
    return serial !== '' && this.#serials.has(serial);
  }

  async close(): Promise<void> {
    await this.#writer.flush();
  }

  #reindex(): void {
    const now = this.#now();
    for (const [id, p] of this.#proxies) if (p.untilMs + KEEP_AFTER_EXPIRY_MS < now) this.#proxies.delete(id);
    this.#serials = new Set([...this.#proxies.values()].filter((p) => p.untilMs >= now).flatMap((p) => p.serials));
  }
}

function isRemoved(value: unknown): value is RemovedProxy {
  return (
    isRecord(value) &&
    typeof value['proxyId'] === 'string' &&
    typeof value['spiffeId'] === 'string' &&
    typeof value['removedAtMs'] === 'number' &&
    typeof value['untilMs'] === 'number' &&
    Array.isArray(value['serials']) &&
    value['serials'].every((s) => typeof s === 'string')
  );
}
