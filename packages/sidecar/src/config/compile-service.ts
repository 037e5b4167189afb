import type { Route, ServicePolicy, WireServiceEndpoints } from '@weft/api';
import { isBalancerName } from '../balance/registry';
import { compileRule, defaultRule } from './compile-rule';
import type { BalancerName, CompiledBackend, CompiledEndpoint, CompiledService, Destination } from './types';

/** The destination key used by the route table, metrics and `/config`. */
export function destinationKey(service: string, namespace: string): string {
  return `${service}.${namespace}`;
}

/**
 * Compiles one destination: its ready endpoints grouped per subset, one backend object per subset
 * (shared by every rule that names it, so a balancer's state is per backend, not per rule), and
 * its rules in first-match-wins order.
 */
export function compileService(
  wire: WireServiceEndpoints,
  policy: ServicePolicy | undefined,
  routes: readonly Route[],
): CompiledService {
  const destination: Destination = Object.freeze({
    key: destinationKey(wire.service, wire.namespace),
    service: wire.service,
    namespace: wire.namespace,
    spiffeId: wire.spiffeId,
  });
  const ready: CompiledEndpoint[] = wire.endpoints
    .filter((e) => e.ready)
    .map((e) => Object.freeze({ address: e.address, proxyId: e.proxyId, labels: Object.freeze({ ...e.labels }) }));
  const notes: string[] = [];
  const balancer = balancerFor(policy, notes);
  notes.push(...pendingFeatures(policy));

  const subsets = new Map<string, readonly CompiledEndpoint[]>();
  for (const s of policy?.spec.subsets ?? []) {
    const wanted = Object.entries(s.labels);
    subsets.set(s.name, Object.freeze(ready.filter((e) => wanted.every(([k, v]) => e.labels[k] === v))));
  }

  const backends = new Map<string, CompiledBackend>();
  const backendFor = (subset: string | undefined): CompiledBackend => {
    const id = subset ?? '';
    let backend = backends.get(id);
    if (!backend) {
      // A subset no ServicePolicy defines gets no endpoints: requests to it fail with a 503 that
      // names the subset, instead of the whole snapshot being refused because of the order in
      // which an operator applied a Route and its ServicePolicy.
      const endpoints = subset === undefined ? Object.freeze(ready) : (subsets.get(subset) ?? Object.freeze([]));
      backend = Object.freeze({ destination, subset, endpoints, balancer });
      backends.set(id, backend);
    }
    return backend;
  };

  // Several Routes for one destination are tried in name order, rules in their written order.
  const ordered = [...routes].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  const rules = ordered.flatMap((route) =>
    route.spec.rules.map((rule, index) => compileRule(rule, { route: route.metadata.name, index }, destination, backendFor)),
  );
  if (rules.length === 0) rules.push(defaultRule(destination, backendFor));

  return Object.freeze({
    ...destination,
    rules: Object.freeze(rules),
    allEndpoints: Object.freeze(
      wire.endpoints.map((e) => Object.freeze({ address: e.address, ready: e.ready, labels: Object.freeze({ ...e.labels }) })),
    ),
    routes: Object.freeze(ordered.map((r) => r.metadata.name)),
    subsets,
    notes: Object.freeze(notes),
  });
}

function balancerFor(policy: ServicePolicy | undefined, notes: string[]): BalancerName {
  const asked = policy?.spec.loadBalancer?.algorithm ?? 'round-robin';
  if (isBalancerName(asked)) return asked;
  // A valid policy must not be refused because this sidecar lacks a strategy: it runs the
  // default and says so on /config.
  notes.push(`loadBalancer.algorithm ${asked} is not implemented by this sidecar yet: round-robin is in force`);
  return 'round-robin';
}

/** ServicePolicy fields this version validates and shows but does not enforce yet. */
function pendingFeatures(policy: ServicePolicy | undefined): string[] {
  const spec = policy?.spec;
  if (!spec) return [];
  const names = (['connectionPool', 'outlierDetection', 'retryBudget', 'rateLimit'] as const).filter((k) => spec[k] !== undefined);
  return names.map((k) => `${k} is accepted but not enforced by this sidecar yet`);
}
