import { inSubset, type Route, type ServicePolicy, type WireServiceEndpoints } from '@weft/api';
import { compileServicePolicy } from './compile-policy';
import { compileRule, defaultRule, type RuleContext } from './compile-rule';
import type { CompiledBackend, CompiledEndpoint, CompiledService, Destination } from './types';

/** The destination key used by the route table, metrics and `/config`. */
export function destinationKey(service: string, namespace: string): string {
  return `${service}.${namespace}`;
}

/**
 * Compiles one destination: its ready endpoints grouped per subset, one backend object per subset
 * (shared by every rule that names it, so a balancer's state is per backend, not per rule), and
 * its rules in first-match-wins order. The ServicePolicy's traffic settings (balancer, pool
 * limits, outlier detection, retry budget) go on the destination and its backends.
 */
export function compileService(
  wire: WireServiceEndpoints,
  policy: ServicePolicy | undefined,
  routes: readonly Route[],
  minTLSVersion: 'TLSv1.2' | 'TLSv1.3' = 'TLSv1.3',
): CompiledService {
  const traffic = compileServicePolicy(policy);
  const destination: Destination = Object.freeze({
    key: destinationKey(wire.service, wire.namespace),
    service: wire.service,
    namespace: wire.namespace,
    spiffeId: wire.spiffeId,
    connectTimeoutMs: traffic.connectTimeoutMs,
    idleTimeoutMs: traffic.idleTimeoutMs,
    maxConnections: traffic.pool.maxConnections,
    minTLSVersion,
  });
  const ready: CompiledEndpoint[] = wire.endpoints
    .filter((e) => e.ready)
    .map((e) => Object.freeze({ address: e.address, proxyId: e.proxyId, labels: Object.freeze({ ...e.labels }) }));

  const subsets = new Map<string, readonly CompiledEndpoint[]>();
  for (const s of policy?.spec.subsets ?? []) {
    subsets.set(s.name, Object.freeze(ready.filter((e) => inSubset(e.labels, s.labels))));
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
      backend = Object.freeze({ destination, subset, endpoints, balancer: traffic.balancer, outlier: traffic.outlier, pool: traffic.pool });
      backends.set(id, backend);
    }
    return backend;
  };
  const context: RuleContext = { destination, backendFor, retryBudget: traffic.retryBudget };

  // Several Routes for one destination are tried in name order, rules in their written order.
  const ordered = [...routes].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  const rules = ordered.flatMap((route) => route.spec.rules.map((rule, index) => compileRule(rule, { route: route.metadata.name, index }, context)));
  if (rules.length === 0) rules.push(defaultRule(context));

  return Object.freeze({
    ...destination,
    rules: Object.freeze(rules),
    allEndpoints: Object.freeze(
      wire.endpoints.map((e) => Object.freeze({ address: e.address, ready: e.ready, labels: Object.freeze({ ...e.labels }) })),
    ),
    routes: Object.freeze(ordered.map((r) => r.metadata.name)),
    subsets,
    policy: policy?.metadata.name,
    traffic,
    // Every ServicePolicy field is enforced by this sidecar; notes are for what a future schema
    // adds before the data path implements it.
    notes: Object.freeze([]),
  });
}
