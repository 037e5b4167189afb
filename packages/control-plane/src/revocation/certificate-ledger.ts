import { isRecord, readJsonFile } from '../bootstrap/data-dir';
import { JsonFileWriter } from '../bootstrap/json-file-writer';

/** One workload certificate and the proxy it went to. */
export interface LedgerEntry {
  /** Lower-case hex without leading zeros (`normalizeSerial`). */
  readonly serial: string;
  readonly proxyId: string;
  readonly spiffeId: string;
  readonly notAfterMs: number;
  /** The join token that authenticated the request, '' for a renewal. */
  readonly tokenId: string;
}

/**
 * Which certificates went to which proxy, until they expire (`certificates.json`). Removing a
 * proxy revokes every certificate it ever held, not only the one it presents now: a removed
 * sidecar that kept an older certificate and key must not renew with those either.
 */
export class CertificateLedger {
  readonly #writer: JsonFileWriter;
  readonly #now: () => number;
  readonly #bySerial = new Map<string, LedgerEntry>();

  private constructor(file: string, now: () => number) {
    this.#writer = new JsonFileWriter(file);
    this.#now = now;
  }

  static async open(file: string, now: () => number = Date.now): Promise<CertificateLedger> {
    const ledger = new CertificateLedger(file, now);
    const raw = await readJsonFile(file);
    const list = isRecord(raw) && Array.isArray(raw['certificates']) ? (raw['certificates'] as unknown[]) : [];
    for (const value of list) if (isEntry(value)) ledger.#bySerial.set(value.serial, { ...value });
    ledger.#prune();
    return ledger;
  }

  /** Records a certificate (a repeat of a known serial keeps the first record, which names its token). */
  record(entry: LedgerEntry): Promise<void> {
    if (!entry.serial || !entry.proxyId || this.#bySerial.has(entry.serial)) return Promise.resolve();
    this.#bySerial.set(entry.serial, { ...entry });
    return this.#save();
  }

  forProxy(proxyId: string): LedgerEntry[] {
    return [...this.#bySerial.values()].filter((e) => e.proxyId === proxyId);
  }

  async close(): Promise<void> {
    await this.#writer.flush();
  }

  #prune(): void {
    const now = this.#now();
    for (const [serial, e] of this.#bySerial) if (e.notAfterMs < now) this.#bySerial.delete(serial);
  }

  /** Pruned and built once per file write, not once per certificate: a joining fleet records N in a burst. */
  #save(): Promise<void> {
    return this.#writer.writeLatest(() => {
      this.#prune();
      return { formatVersion: 1, certificates: [...this.#bySerial.values()] };
    });
  }
}

function isEntry(value: unknown): value is LedgerEntry {
  return (
    isRecord(value) &&
    ['serial', 'proxyId', 'spiffeId', 'tokenId'].every((k) => typeof value[k] === 'string') &&
    typeof value['notAfterMs'] === 'number'
  );
}
