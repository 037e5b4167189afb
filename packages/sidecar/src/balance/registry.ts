import type { ServicePolicySpec } from '@weft/api';
import type { BalancerName, CompiledBalancer } from '../config/types';
import { LeastRequestPicker } from './balance-least-request';
import { RandomPicker } from './balance-random';
import { RingHashPicker } from './balance-ring-hash';
import { RoundRobinPicker } from './balance-round-robin';
import type { Picker, PickerInputs } from './picker';

/** ServicePolicy `loadBalancer` as validated. */
export type LoadBalancerSpec = NonNullable<ServicePolicySpec['loadBalancer']>;

type ConfigOf<N extends BalancerName> = Extract<CompiledBalancer, { readonly name: N }>;

/** A balancing strategy: a typed parser for its settings, and a picker factory that uses them. */
export interface BalancerStrategy<N extends BalancerName> {
  /** Runs once per config version; throws (a ConfigCompileError from the caller's view) on bad settings. */
  parse(spec: LoadBalancerSpec): ConfigOf<N>;
  /** Builds the picker of one backend, once per config version. */
  build(inputs: PickerInputs, config: ConfigOf<N>): Picker;
}

/**
 * Balancers by the name a ServicePolicy uses. The compiler parses a policy's settings through
 * this table, so an unknown name or a bad setting is dealt with once per config version and
 * never per request.
 */
const BALANCERS: { readonly [N in BalancerName]: BalancerStrategy<N> } = {
  'round-robin': { parse: () => ({ name: 'round-robin' }), build: (inputs) => new RoundRobinPicker(inputs) },
  random: { parse: () => ({ name: 'random' }), build: (inputs) => new RandomPicker(inputs) },
  'least-request': { parse: () => ({ name: 'least-request' }), build: (inputs) => new LeastRequestPicker(inputs) },
  'ring-hash': {
    parse: (spec) => {
      if (!spec.hashHeader) throw new Error('ring-hash needs hashHeader: name the request header to hash on');
      // Node lower-cases incoming header names; the balancer looks the header up in that form.
      return { name: 'ring-hash', hashHeader: spec.hashHeader.toLowerCase() };
    },
    build: (inputs) => new RingHashPicker(inputs),
  },
};
Object.freeze(BALANCERS);

export function isBalancerName(name: string): name is BalancerName {
  return Object.prototype.hasOwnProperty.call(BALANCERS, name);
}

/** Parses a ServicePolicy's `loadBalancer` with its strategy's parser (round robin when absent). */
export function parseBalancer(spec: LoadBalancerSpec | undefined): CompiledBalancer {
  if (!spec) return DEFAULT_BALANCER;
  if (!isBalancerName(spec.algorithm)) throw new Error(`loadBalancer.algorithm ${spec.algorithm} is not known to this sidecar`);
  return BALANCERS[spec.algorithm].parse(spec);
}

/** Builds a backend's picker with the strategy its compiled balancer names. */
export function buildPicker(config: CompiledBalancer, inputs: PickerInputs): Picker {
  // TypeScript cannot correlate `config.name` with the table entry it selects; each entry's
  // parser produced exactly this config, so the cast only restates that.
  return (BALANCERS[config.name] as BalancerStrategy<BalancerName>).build(inputs, config as never);
}

const DEFAULT_BALANCER: CompiledBalancer = Object.freeze({ name: 'round-robin' });
