import type { CompiledEndpoint } from '../config/types';
import { NO_ENDPOINTS, type Picker, type PickResult } from './picker';

/**
 * Round robin over a fixed list. Starts at a random offset so that many sidecars that received
 * the same list at the same moment do not all send their first request to the same endpoint.
 */
export class RoundRobinPicker implements Picker {
  readonly #endpoints: readonly CompiledEndpoint[];
  #next: number;

  constructor(endpoints: readonly CompiledEndpoint[], random: () => number = Math.random) {
    this.#endpoints = endpoints;
    this.#next = Math.floor(random() * Math.max(1, endpoints.length));
  }

  pick(avoid?: string): PickResult {
    const n = this.#endpoints.length;
    if (n === 0) return NO_ENDPOINTS;
    let endpoint = this.#take(n);
    if (avoid !== undefined && n > 1 && endpoint.address === avoid) endpoint = this.#take(n);
    return { kind: 'endpoint', endpoint };
  }

  #take(n: number): CompiledEndpoint {
    const endpoint = this.#endpoints[this.#next] as CompiledEndpoint;
    this.#next = (this.#next + 1) % n;
    return endpoint;
  }
}
