import { createHash } from 'node:crypto';
import { formatHostPort, parseHostPort, type HostPort } from './address';
import { isTransient } from './errors';

/**
 * The control plane replicas a sidecar may talk to (`--control-plane a:15012,b:15012`), and which
 * one it uses now. Every call goes to the current one; a call that could not reach it moves the
 * sidecar on to the next, so that a dead replica is left at once and the others are tried in
 * turn. With one address nothing ever moves: the single-replica behaviour is unchanged.
 *
 * Where a sidecar starts is spread (`spreadBy`): every sidecar is usually given the same list, and
 * if all began at its head the first replica would carry every stream and every signature while
 * the others idled, and its death would move the whole fleet at once.
 */
export class ControlPlaneAddresses {
  readonly all: readonly HostPort[];
  #index: number;

  constructor(all: readonly HostPort[], start = 0) {
    if (all.length === 0) throw new Error('at least one control plane address is needed');
    this.all = Object.freeze([...all]);
    this.#index = Math.abs(Math.trunc(start)) % all.length;
  }

  /**
   * The same list, starting at the replica `key` hashes to (SHA-256, first 32 bits, modulo the
   * count). The sidecar passes its proxy id, a random UUID per process: starts are spread evenly
   * over the replicas whatever the services are (hashing the identity instead would put every
   * instance of a large service on one replica), yet one process's choice is fixed and logged.
   * Failover then goes round the list from there.
   */
  spreadBy(key: string): ControlPlaneAddresses {
    if (this.all.length === 1) return this;
    return new ControlPlaneAddresses(this.all, createHash('sha256').update(key).digest().readUInt32BE(0));
  }

  /** `HOST:PORT[,HOST:PORT...]`; throws WEFT_ERR_BAD_ADDRESS naming the bad entry. */
  static parse(text: string, what = 'the control plane address'): ControlPlaneAddresses {
    return new ControlPlaneAddresses(text.split(',').map((part) => parseHostPort(part, what)));
  }

  get current(): HostPort {
    return this.all[this.#index] as HostPort;
  }

  /** `address` could not be reached: use the next one, unless another call moved on already. */
  failed(address: HostPort): void {
    if (this.all.length > 1 && address === this.current) this.#index = (this.#index + 1) % this.all.length;
  }

  /** As given, for logs and /config. */
  toString(): string {
    return this.all.map(formatHostPort).join(',');
  }
}

/** One call to the current address; a transient failure moves the list on to the next replica. */
export async function failingOver<T>(addresses: ControlPlaneAddresses, call: (address: HostPort) => Promise<T>): Promise<T> {
  const address = addresses.current;
  try {
    return await call(address);
  } catch (err) {
    if (isTransient(err)) addresses.failed(address);
    throw err;
  }
}
