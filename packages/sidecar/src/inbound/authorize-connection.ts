import type { AuthzTable, CompiledAuthzRule } from '@weft/api';

/** A raw TCP connection's verdict: allowed, or the policy that refused it ('' when no ALLOW rule matched). */
export type ConnectionDecision = { readonly allowed: true } | { readonly allowed: false; readonly policy: string; readonly cause: 'deny-rule' | 'no-allow-match' };

/**
 * AuthorizationPolicy for a raw TCP connection (`--app-protocol tcp`), which has a caller but no
 * method or path. Rules are read as Istio reads them for TCP: a rule whose `to` names methods or
 * paths never grants (ALLOW) and never spares (DENY). So a DENY rule matches on its `from` alone,
 * and an ALLOW rule counts only when it has no `to`. Same table, same DENY-then-ALLOW order as
 * the HTTP `authorize` layer.
 */
export function authorizeConnection(table: AuthzTable, principal: string): ConnectionDecision {
  const names = (rule: CompiledAuthzRule): boolean => !rule.principals || rule.principals.has(principal);
  for (const policy of table.deny) {
    if (policy.rules.some(names)) return { allowed: false, policy: policy.name, cause: 'deny-rule' };
  }
  if (table.allow.length === 0) return { allowed: true };
  for (const policy of table.allow) {
    if (policy.rules.some((rule) => names(rule) && !rule.operations)) return { allowed: true };
  }
  return { allowed: false, policy: '', cause: 'no-allow-match' };
}
