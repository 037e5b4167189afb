import { BasePicker, randomBelow, type PickerInputs } from './picker';

/**
 * Points each endpoint puts on the ring. Fixed per endpoint (not derived from the endpoint count)
 * so that adding an endpoint only adds its own points and moves only the keys that land on them:
 * about 1/n of them. 160 is ketama's number; it keeps every endpoint's share within a few
 * percent of 1/n.
 */
export const VIRTUAL_NODES = 160;

/**
 * Consistent hashing on a request header (Envoy's RING_HASH, ketama style): each endpoint owns
 * VIRTUAL_NODES points on a 32-bit ring, placed by hashing its address, so every sidecar builds
 * the same ring and sends the same key to the same endpoint. A key goes to the owner of the first
 * point at or after its hash; when that endpoint is ejected, full or just failed, to the next
 * owner along the ring, so its keys spread over the others and come back when it does. A request
 * without the header has no key and goes to a random endpoint.
 */
export class RingHashPicker extends BasePicker {
  /** Point hashes in ascending order, and which endpoint owns each point. */
  readonly #points: Uint32Array;
  readonly #owners: Uint32Array;

  constructor(inputs: PickerInputs) {
    super(inputs);
    const points: { hash: number; owner: number; address: string }[] = [];
    inputs.endpoints.forEach((e, owner) => {
      for (let v = 0; v < VIRTUAL_NODES; v++) points.push({ hash: hash32(`${e.address}#${v}`), owner, address: e.address });
    });
    // Ties (rare) are broken by address, never by list order, so that every sidecar agrees.
    points.sort((a, b) => a.hash - b.hash || (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
    this.#points = Uint32Array.from(points, (p) => p.hash);
    this.#owners = Uint32Array.from(points, (p) => p.owner);
  }

  protected choose(avoid: number, key: string | undefined): number {
    if (key === undefined) {
      const count = this.countUsable(avoid);
      return count === 0 ? -1 : this.nthUsable(randomBelow(count, this.inputs.random), avoid);
    }
    const size = this.#points.length;
    const start = firstAtOrAfter(this.#points, hash32(key));
    for (let step = 0; step < size; step++) {
      const owner = this.#owners[(start + step) % size] as number;
      if (owner !== avoid && this.usable(owner)) return owner;
    }
    return -1;
  }
}

/** Index of the first point >= hash, wrapping to 0 past the end (binary search). */
function firstAtOrAfter(points: Uint32Array, hash: number): number {
  let lo = 0;
  let hi = points.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((points[mid] as number) < hash) lo = mid + 1;
    else hi = mid;
  }
  return lo === points.length ? 0 : lo;
}

/**
 * A 32-bit string hash: FNV-1a over UTF-16 code units, then murmur3's finalizer, which spreads
 * the near-identical inputs a ring is built from (`10.0.0.1:15006#1`, `#2`, ...) evenly.
 */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
