import {
  effectiveMeshConfig,
  KINDS,
  type AuthorizationPolicy,
  type MeshConfig,
  type PolicyKind,
  type PolicyResource,
  type Route,
  type ServicePolicy,
} from '@weft/api';
import { renderTable } from '../output/table';

/** `route.weft.dev/reviews`: how kubectl-style output names a resource. */
export function resourceRef(kind: string, name: string): string {
  return `${kind.toLowerCase()}.weft.dev/${name}`;
}

/** `v1=90,v2=10` per rule, rules separated by ` | `; `*` is every endpoint of the service. */
function routeBackends(route: Route): string {
  return route.spec.rules
    .map((rule) => (rule.backends ?? [{}]).map((b) => `${b.subset ?? '*'}${b.weight === undefined ? '' : `=${b.weight}`}`).join(','))
    .join(' | ');
}

function distinct(values: readonly (string | undefined)[]): string {
  const set = [...new Set(values.filter((v): v is string => v !== undefined))];
  return set.length > 0 ? set.join(',') : '-';
}

interface KindTable<R extends PolicyResource> {
  readonly headers: readonly string[];
  row(resource: R, trustDomain: string): string[];
}

const meshConfigTable: KindTable<MeshConfig> = {
  headers: ['NAME', 'TRUST DOMAIN', 'MTLS', 'CERT TTL', 'TRACING', 'ACCESS LOG'],
  row(r, trustDomain) {
    // What is in force, defaults included: that is what an operator wants to know.
    const eff = effectiveMeshConfig(r.spec, trustDomain);
    const tracing = eff.tracing.otlpEndpoint ? `${eff.tracing.otlpEndpoint} (${eff.tracing.samplingPercent}%)` : 'off';
    return [r.metadata.name, eff.trustDomain, eff.mtls, eff.certificateTTL, tracing, eff.accessLog ? 'on' : 'off'];
  },
};

const routeTable: KindTable<Route> = {
  headers: ['NAMESPACE', 'NAME', 'SERVICE', 'RULES', 'BACKENDS', 'TIMEOUT', 'RETRIES'],
  row: (r) => [
    r.metadata.namespace,
    r.metadata.name,
    r.spec.service,
    String(r.spec.rules.length),
    routeBackends(r),
    distinct(r.spec.rules.map((rule) => rule.timeout)),
    distinct(r.spec.rules.map((rule) => (rule.retries ? String(rule.retries.attempts) : undefined))),
  ],
};

const servicePolicyTable: KindTable<ServicePolicy> = {
  headers: ['NAMESPACE', 'NAME', 'SERVICE', 'SUBSETS', 'LOAD BALANCER'],
  row: (r) => [
    r.metadata.namespace,
    r.metadata.name,
    r.spec.service,
    (r.spec.subsets ?? []).map((s) => s.name).join(',') || '-',
    r.spec.loadBalancer?.algorithm ?? '-',
  ],
};

const authorizationPolicyTable: KindTable<AuthorizationPolicy> = {
  headers: ['NAMESPACE', 'NAME', 'SERVICE', 'ACTION', 'RULES'],
  row: (r) => [r.metadata.namespace, r.metadata.name, r.spec.service, r.spec.action, String((r.spec.rules ?? []).length)],
};

const TABLES: { readonly [K in PolicyKind]: KindTable<Extract<PolicyResource, { kind: K }>> } = {
  MeshConfig: meshConfigTable,
  Route: routeTable,
  ServicePolicy: servicePolicyTable,
  AuthorizationPolicy: authorizationPolicyTable,
};

export function renderResourceTable(kind: PolicyKind, resources: readonly PolicyResource[], trustDomain: string): string {
  const table = TABLES[kind] as KindTable<PolicyResource>;
  return renderTable(table.headers, resources.map((r) => table.row(r, trustDomain)));
}

export function kindPlural(kind: PolicyKind): string {
  return KINDS[kind].plural;
}
