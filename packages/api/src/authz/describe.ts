import type { AuthzTable, CompiledAuthzPolicy, CompiledAuthzRule } from './types';

/** One policy as the sidecar's `/config` and `weftctl auth check` show it. */
export interface AuthzPolicyView {
  readonly policy: string;
  readonly action: 'ALLOW' | 'DENY';
  readonly rules: readonly { readonly from: readonly string[] | 'any caller'; readonly to: readonly unknown[] | 'any operation' }[];
}

export interface AuthzTableView {
  readonly service: string;
  readonly namespace: string;
  /** What happens when no rule matches, in words. */
  readonly default: string;
  readonly pathsNormalized: boolean;
  /** DENY policies first: the order in which they are checked. */
  readonly policies: readonly AuthzPolicyView[];
}

/** A JSON-safe view of what is enforced, with `{service}` sources shown as the SPIFFE IDs they match. */
export function describeAuthorization(table: AuthzTable): AuthzTableView {
  return {
    service: table.service,
    namespace: table.namespace,
    default: table.allow.length === 0 ? 'allow (no ALLOW policy)' : 'deny (ALLOW policies exist; a request must match one)',
    pathsNormalized: table.constrainsPaths,
    policies: [...table.deny, ...table.allow].map(describePolicy),
  };
}

function describePolicy(p: CompiledAuthzPolicy): AuthzPolicyView {
  return { policy: p.name, action: p.action, rules: p.rules.map(describeRule) };
}

function describeRule(r: CompiledAuthzRule): AuthzPolicyView['rules'][number] {
  return {
    from: r.principals ? [...r.principals] : 'any caller',
    to: r.operations ? r.operations.map((o) => o.source) : 'any operation',
  };
}
