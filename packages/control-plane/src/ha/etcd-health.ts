import type { Logger } from '@weft/api';
import type { Etcd3 } from 'etcd3';
import { ControlPlaneError } from '../errors';

const PROBE_EVERY_MS = 1_000;
const PROBE_TIMEOUT_MS = 1_500;

/**
 * Whether this replica reaches etcd, probed every second. While it does not, the replica keeps
 * serving what it holds (discovery from its last view, certificates from its loaded CA, renewals)
 * and says so: a log line on each change, `/ready` detail, `weft_cp_store_available 0`; writes
 * (apply, delete, token create, joins with a token, root rotation) are refused at once with
 * WEFT_ERR_STORE_UNAVAILABLE instead of waiting out etcd's timeouts.
 */
export class EtcdHealth {
  readonly #client: Etcd3;
  readonly #key: string;
  readonly #log: Logger;
  #available = true;
  #sinceMs = Date.now();
  #lastError = '';
  #timer: NodeJS.Timeout | undefined;
  #probing = false;

  constructor(client: Etcd3, probeKey: string, log: Logger) {
    this.#client = client;
    this.#key = probeKey;
    this.#log = log;
  }

  get available(): boolean {
    return this.#available;
  }

  /** For /ready: '' while etcd is reachable. */
  detail(): string {
    return this.#available ? '' : `store unavailable: etcd unreachable since ${new Date(this.#sinceMs).toISOString()} (${this.#lastError}); serving the last known state, refusing writes`;
  }

  /** Throws WEFT_ERR_STORE_UNAVAILABLE for a write while etcd is out of reach. */
  checkWritable(what: string): void {
    if (this.#available) return;
    throw new ControlPlaneError(
      'WEFT_ERR_STORE_UNAVAILABLE',
      `cannot ${what}: this control plane replica has not reached etcd since ${new Date(this.#sinceMs).toISOString()}; it keeps serving what it has but refuses writes: ` +
        'retry against another replica, or restore its connection to etcd',
    );
  }

  start(): void {
    this.#timer = setInterval(() => void this.#probe(), PROBE_EVERY_MS);
    this.#timer.unref();
  }

  close(): void {
    clearInterval(this.#timer);
  }

  async #probe(): Promise<void> {
    if (this.#probing) return;
    this.#probing = true;
    try {
      await this.#client.get(this.#key).options({ deadline: Date.now() + PROBE_TIMEOUT_MS }).exec();
      this.#set(true, '');
    } catch (err) {
      this.#set(false, err instanceof Error ? err.message : String(err));
    } finally {
      this.#probing = false;
    }
  }

  #set(available: boolean, error: string): void {
    this.#lastError = error;
    if (available === this.#available) return;
    this.#available = available;
    this.#sinceMs = Date.now();
    if (available) this.#log.info('etcd reachable again: writes accepted');
    else this.#log.error('etcd unreachable: serving the last known state and refusing writes', { error });
  }
}
