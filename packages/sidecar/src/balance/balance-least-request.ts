import { BasePicker, randomBelow } from './picker';

/**
 * Least request by the power of two choices (Mitzenmacher; Envoy's LEAST_REQUEST and
 * linkerd's P2C): draw two distinct endpoints at random and send to the one with fewer requests
 * in flight from this sidecar. Nearly as good as scanning for the least loaded, without herding
 * every sidecar onto the same momentarily idle endpoint.
 */
export class LeastRequestPicker extends BasePicker {
  protected choose(avoid: number): number {
    const count = this.countUsable(avoid);
    if (count <= 1) return count === 0 ? -1 : this.nthUsable(0, avoid);
    const first = randomBelow(count, this.inputs.random);
    let second = randomBelow(count - 1, this.inputs.random);
    if (second >= first) second += 1;
    const a = this.nthUsable(first, avoid);
    const b = this.nthUsable(second, avoid);
    const loadA = this.inputs.states[a]?.inflight ?? 0;
    const loadB = this.inputs.states[b]?.inflight ?? 0;
    // On a tie the first draw wins; it is random already.
    return loadB < loadA ? b : a;
  }
}
