import { normalizePath } from './normalize-path';
import type { AuthzDecision, AuthzRequest, AuthzTable, CompiledAuthzPolicy, CompiledAuthzRule, CompiledOperation } from './types';

/**
 * Decides one request against a compiled table: DENY rules first (any match denies), then, if
 * the service has ALLOW policies, one of their rules must match; with none, the request is
 * allowed. A rule matches when its `from` names the caller (or it has no `from`) and one of its
 * `to` entries matches the method and path (or it has no `to`). A caller without an identity
 * (principal '') matches only rules without `from`.
 *
 * The same function runs in every sidecar and in `weftctl auth check`. It does no parsing: the
 * table holds sets and prefixes, and the path is normalized only when some rule looks at paths.
 */
export function decide(table: AuthzTable, request: AuthzRequest): AuthzDecision {
  let path = request.path;
  if (table.constrainsPaths) {
    const normalized = normalizePath(request.path);
    if (!normalized.ok) {
      return {
        allowed: false,
        cause: 'ambiguous-path',
        reason:
          `the path ${JSON.stringify(request.path)} ${normalized.problem}: AuthorizationPolicies for ${table.service} match on paths, ` +
          'so the sidecar refuses it; send the path without that',
        path: request.path,
      };
    }
    path = normalized.path;
  }
  const deny = firstMatch(table.deny, request, path);
  if (deny) return { allowed: false, cause: 'deny-rule', policy: deny.policy.name, action: 'DENY', rule: deny.rule.index, reason: deny.rule.reason, path };
  if (table.allow.length === 0) {
    return { allowed: true, cause: 'no-allow-policy', reason: `no ALLOW policy exists for ${table.service}: allowed by default`, path };
  }
  const allow = firstMatch(table.allow, request, path);
  if (allow) return { allowed: true, cause: 'allow-rule', policy: allow.policy.name, action: 'ALLOW', rule: allow.rule.index, reason: allow.rule.reason, path };
  const caller = request.principal === '' ? '(no identity: plaintext)' : request.principal;
  return { allowed: false, cause: 'no-allow-match', reason: `no ALLOW policy for ${table.service} matches caller ${caller} ${request.method} ${path}`, path };
}

function firstMatch(
  policies: readonly CompiledAuthzPolicy[],
  request: AuthzRequest,
  path: string,
): { policy: CompiledAuthzPolicy; rule: CompiledAuthzRule } | undefined {
  for (const policy of policies) {
    for (const rule of policy.rules) if (ruleMatches(rule, request, path)) return { policy, rule };
  }
  return undefined;
}

function ruleMatches(rule: CompiledAuthzRule, request: AuthzRequest, path: string): boolean {
  // '' is never in a principal set: a caller without identity matches no `from`.
  if (rule.principals && !rule.principals.has(request.principal)) return false;
  if (!rule.operations) return true;
  for (const op of rule.operations) if (operationMatches(op, request.method, path)) return true;
  return false;
}

function operationMatches(op: CompiledOperation, method: string, path: string): boolean {
  if (op.methods && !op.methods.has(method)) return false;
  if (op.anyPath || op.exactPaths.has(path)) return true;
  for (const prefix of op.prefixes) if (path.startsWith(prefix)) return true;
  return false;
}
