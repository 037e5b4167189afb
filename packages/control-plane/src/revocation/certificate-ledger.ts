import * as fs from 'node:fs/promises';
import { isRecord, readJsonFile } from '../bootstrap/data-dir';
import { JsonLinesJournal } from '../bootstrap/json-lines-journal';

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

const HEADER = Object.freeze({ kind: 'weft-certificate-ledger', formatVersion: 2 });
/**
 * Every this many records, expired certificates leave the map; the journal is rewritten with the
 * live ones once it holds this many lines more than twice those.
 */
const REWRITE_SLACK = 1_024;

/**
 * Which certificates went to which proxy, until they expire (`certificates.jsonl`). Removing a
 * proxy revokes every certificate it ever held, not only the one it presents now: a removed
 * sidecar that kept an older certificate and key must not renew with those either.
 *
 * Every signature is recorded before its certificate leaves, so the record is on the hot path of
 * a fleet joining: it is one appended line per certificate (group-committed, see
 * JsonLinesJournal), not a rewrite of the whole ledger. Format 1 (`certificates.json`, one JSON
 * document, written by earlier versions) is read once and carried into the journal.
 */
export class CertificateLedger {
  readonly #journal: JsonLinesJournal<LedgerEntry>;
  readonly #now: () => number;
  readonly #bySerial = new Map<string, LedgerEntry>();
  readonly #slack: number;
  #rewriting = false;
  #recordsSincePrune = 0;

  private constructor(journal: JsonLinesJournal<LedgerEntry>, now: () => number, slack: number) {
    this.#journal = journal;
    this.#now = now;
    this.#slack = slack;
  }

  /**
   * Opens the ledger at `file` (`certificates.jsonl`). `legacyFile` (`certificates.json`) is what
   * an earlier version wrote: its entries join the journal, and it is removed once they are durable there.
   */
  static async open(
    file: string,
    options: { readonly legacyFile?: string; readonly now?: () => number; /** REWRITE_SLACK unless a test wants it small. */ readonly rewriteSlack?: number } = {},
  ): Promise<CertificateLedger> {
    const now = options.now ?? Date.now;
    const legacy = options.legacyFile === undefined ? [] : await readLegacy(options.legacyFile);
    const live = (entries: LedgerEntry[]): LedgerEntry[] => [...legacy, ...entries].filter((e) => e.notAfterMs >= now());
    const { journal, entries } = await JsonLinesJournal.open(file, HEADER, isEntry, live);
    // Only now that its entries are durable in the journal (open rewrote it with them).
    if (options.legacyFile !== undefined) await fs.rm(options.legacyFile, { force: true });
    const ledger = new CertificateLedger(journal, now, options.rewriteSlack ?? REWRITE_SLACK);
    for (const e of entries) if (!ledger.#bySerial.has(e.serial)) ledger.#bySerial.set(e.serial, { ...e });
    return ledger;
  }

  /** Records a certificate (a repeat of a known serial keeps the first record, which names its token). */
  record(entry: LedgerEntry): Promise<void> {
    if (!entry.serial || !entry.proxyId || this.#bySerial.has(entry.serial)) return Promise.resolve();
    const copy = { ...entry };
    this.#bySerial.set(entry.serial, copy);
    const durable = this.#journal.append(copy);
    this.#maybeRewrite();
    return durable;
  }

  forProxy(proxyId: string): LedgerEntry[] {
    return [...this.#bySerial.values()].filter((e) => e.proxyId === proxyId);
  }

  async close(): Promise<void> {
    await this.#journal.close();
  }

  /**
   * Expired certificates leave the map now and then (a scan per REWRITE_SLACK records), and the
   * file is rewritten when the journal has grown well past what is live.
   */
  #maybeRewrite(): void {
    if (++this.#recordsSincePrune < this.#slack) return;
    this.#recordsSincePrune = 0;
    const now = this.#now();
    for (const [serial, e] of this.#bySerial) if (e.notAfterMs < now) this.#bySerial.delete(serial);
    if (this.#rewriting || this.#journal.lines < 2 * this.#bySerial.size + this.#slack) return;
    this.#rewriting = true;
    // After the appends queued so far; a failure leaves the journal as it was (and the next record tries again).
    void this.#journal
      .rewrite([...this.#bySerial.values()])
      .catch(() => undefined)
      .finally(() => {
        this.#rewriting = false;
      });
  }
}

/** Format 1: `{ formatVersion: 1, certificates: [...] }` in one file; absent reads as empty. */
async function readLegacy(file: string): Promise<LedgerEntry[]> {
  const raw = await readJsonFile(file);
  const list = isRecord(raw) && Array.isArray(raw['certificates']) ? (raw['certificates'] as unknown[]) : [];
  return list.filter(isEntry);
}

function isEntry(value: unknown): value is LedgerEntry {
  return (
    isRecord(value) &&
    ['serial', 'proxyId', 'spiffeId', 'tokenId'].every((k) => typeof value[k] === 'string') &&
    typeof value['notAfterMs'] === 'number'
  );
}
