import type { CompiledEndpoint } from '../config/types';
import { NO_ENDPOINTS, type Picker, type PickResult } from './picker';

/** Uniform random choice; with `avoid`, a second draw among the others. */
export class RandomPicker implements Picker {
  readonly #endpoints: readonly CompiledEndpoint[];
  readonly #random: () => number;

  constructor(endpoints: readonly CompiledEndpoint[], random: () => number = Math.random) {
    this.#endpoints = endpoints;
    this.#random = random;
  }

  pick(avoid?: string): PickResult {
    const n = this.#endpoints.length;
    if (n === 0) return NO_ENDPOINTS;
    let i = Math.floor(this.#random() * n) % n;
    if (avoid !== undefined && n > 1 && this.#endpoints[i]?.address === avoid) {
      // Draw among the other n-1 by skipping over the avoided index.
      const j = Math.floor(this.#random() * (n - 1)) % (n - 1);
      i = j >= i ? j + 1 : j;
    }
    return { kind: 'endpoint', endpoint: this.#endpoints[i] as CompiledEndpoint };
  }
}
