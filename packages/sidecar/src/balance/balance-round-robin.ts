import { BasePicker, randomBelow, type PickerInputs } from './picker';

/**
 * Round robin over a backend's endpoints, passing over those that are ejected or full. Starts at
 * a random offset so that many sidecars that received the same list at the same moment do not
 * all send their first request to the same endpoint.
 */
export class RoundRobinPicker extends BasePicker {
  #next: number;

  constructor(inputs: PickerInputs) {
    super(inputs);
    this.#next = inputs.endpoints.length === 0 ? 0 : randomBelow(inputs.endpoints.length, inputs.random);
  }

  protected choose(avoid: number): number {
    const n = this.inputs.endpoints.length;
    for (let k = 0; k < n; k++) {
      const i = (this.#next + k) % n;
      if (i === avoid || !this.usable(i)) continue;
      this.#next = (i + 1) % n;
      return i;
    }
    return -1;
  }
}
