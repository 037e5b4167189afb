import { DEFAULT_TRUST_DOMAIN } from '../constants';
import { WeftError } from '../errors';
import type { AuthorizationOperation, AuthorizationRule, AuthorizationSource } from '../resources/authorization-policy';
import type { AuthorizationPolicy } from '../resources/kinds';
import { spiffeId } from '../spiffe';
import type { AuthzTable, CompiledAuthzPolicy, CompiledAuthzRule, CompiledOperation } from './types';

/** A policy the compiler cannot turn into matchers. Schema validation makes it rare; it names the field. */
export class AuthzCompileError extends WeftError {
  constructor(message: string) {
    super('WEFT_ERR_AUTHZ_INVALID', message);
  }
}

export interface CompileAuthorizationOptions {
  /** The trust domain `{service, namespace}` sources are resolved in (default `weft.local`). */
  readonly trustDomain?: string;
}

/**
 * Compiles the AuthorizationPolicies that apply to `service` in `namespace` (others in the list
 * are ignored) into a frozen lookup table. DENY and ALLOW policies are kept apart, each in name
 * order so that every sidecar and `weftctl auth check` name the same policy for one request.
 * `{service, namespace}` sources become SPIFFE IDs here, so a request is matched by set lookups
 * and string comparisons only.
 */
export function compileAuthorization(
  policies: readonly AuthorizationPolicy[],
  service: string,
  namespace: string,
  options: CompileAuthorizationOptions = {},
): AuthzTable {
  const trustDomain = options.trustDomain ?? DEFAULT_TRUST_DOMAIN;
  const mine = policies
    .filter((p) => p.spec.service === service && p.metadata.namespace === namespace)
    .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))
    .map((p) => compilePolicy(p, trustDomain));
  const constrainsPaths = mine.some((p) => p.rules.some((r) => r.operations?.some((o) => !o.anyPath) === true));
  return Object.freeze({
    service,
    namespace,
    trustDomain,
    deny: Object.freeze(mine.filter((p) => p.action === 'DENY')),
    allow: Object.freeze(mine.filter((p) => p.action === 'ALLOW')),
    constrainsPaths,
  });
}

function compilePolicy(policy: AuthorizationPolicy, trustDomain: string): CompiledAuthzPolicy {
  const name = `${policy.metadata.namespace}/${policy.metadata.name}`;
  const action = policy.spec.action;
  const at = `AuthorizationPolicy ${name}: spec.rules`;
  const rules = (policy.spec.rules ?? []).map((rule, index) =>
    compileRule(rule, index, { name, action, at: `${at}[${index}]`, namespace: policy.metadata.namespace, trustDomain }),
  );
  return Object.freeze({ name, action, rules: Object.freeze(rules) });
}

interface RuleContext {
  readonly name: string;
  readonly action: 'ALLOW' | 'DENY';
  readonly at: string;
  /** Where a `{service}` without namespace lives: the policy's own namespace. */
  readonly namespace: string;
  readonly trustDomain: string;
}

function compileRule(rule: AuthorizationRule, index: number, ctx: RuleContext): CompiledAuthzRule {
  const verb = ctx.action === 'DENY' ? 'denied' : 'allowed';
  return Object.freeze({
    index,
    principals: rule.from ? Object.freeze(new Set(rule.from.map((s, i) => principalOf(s, ctx, `${ctx.at}.from[${i}]`)))) : undefined,
    operations: rule.to ? Object.freeze(rule.to.map((o, i) => compileOperation(o, `${ctx.at}.to[${i}]`))) : undefined,
    reason: `${verb} by AuthorizationPolicy ${ctx.name} (${ctx.action} rule ${index})`,
  });
}

function principalOf(source: AuthorizationSource, ctx: RuleContext, at: string): string {
  if (source.principal !== undefined) return source.principal;
  if (source.service === undefined) throw new AuthzCompileError(`${at}: set either service or principal`);
  return spiffeId({ trustDomain: ctx.trustDomain, namespace: source.namespace ?? ctx.namespace, service: source.service });
}

function compileOperation(op: AuthorizationOperation, at: string): CompiledOperation {
  const exact = new Set<string>();
  const prefixes: string[] = [];
  (op.paths ?? []).forEach((p, i) => {
    const star = p.indexOf('*');
    if (star >= 0 && star !== p.length - 1) throw new AuthzCompileError(`${at}.paths[${i}]: "*" is allowed only at the end`);
    if (star >= 0) prefixes.push(p.slice(0, -1));
    else exact.add(p);
  });
  return Object.freeze({
    methods: op.methods ? Object.freeze(new Set(op.methods)) : undefined,
    anyPath: op.paths === undefined,
    exactPaths: Object.freeze(exact),
    prefixes: Object.freeze(prefixes),
    source: Object.freeze({ ...(op.methods ? { methods: [...op.methods] } : {}), ...(op.paths ? { paths: [...op.paths] } : {}) }),
  });
}
