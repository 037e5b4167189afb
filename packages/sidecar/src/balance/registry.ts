import type { BalancerName } from '../config/types';
import { RandomPicker } from './balance-random';
import { RoundRobinPicker } from './balance-round-robin';
import type { PickerFactory } from './picker';

/**
 * Balancers by the name a ServicePolicy uses. The compiler checks names against this table, so an
 * unknown one is dealt with once per config version and never per request.
 */
const BALANCERS: Readonly<Record<BalancerName, PickerFactory>> = Object.freeze({
  'round-robin': (endpoints) => new RoundRobinPicker(endpoints),
  random: (endpoints) => new RandomPicker(endpoints),
});

export function isBalancerName(name: string): name is BalancerName {
  return Object.prototype.hasOwnProperty.call(BALANCERS, name);
}

export function pickerFactory(name: BalancerName): PickerFactory {
  return BALANCERS[name];
}
