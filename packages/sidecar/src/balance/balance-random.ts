import { BasePicker, randomBelow } from './picker';

/** Uniform random choice among the endpoints that may take the request. */
export class RandomPicker extends BasePicker {
  protected choose(avoid: number): number {
    // Drawing a rank among the usable ones (rather than an index, then scanning on) keeps the
    // choice uniform when some are ejected or full.
    const count = this.countUsable(avoid);
    return count === 0 ? -1 : this.nthUsable(randomBelow(count, this.inputs.random), avoid);
  }
}
