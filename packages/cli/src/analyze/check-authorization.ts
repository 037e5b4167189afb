import { compileAuthorization, type AuthorizationPolicy } from '@weft/api';
import { closestName } from '../commands/known-services';
import { ofKind, serviceKey, type AnalysisInput } from './analysis-input';
import { denyCovers } from './authz-cover';
import { finding, type Finding, type Located } from './finding';

/**
 * The services that exist, as far as the input tells: those with registered instances (live
 * state), those a Route or ServicePolicy is for, and those an AuthorizationPolicy names as a
 * caller. An AuthorizationPolicy about a service does not make that service exist.
 */
function existingServices(input: AnalysisInput): Set<string> {
  const known = new Set(input.instances?.keys() ?? []);
  for (const l of input.resources) {
    const r = l.resource;
    if (r.kind === 'Route' || r.kind === 'ServicePolicy') known.add(serviceKey(r.metadata.namespace, r.spec.service));
    if (r.kind !== 'AuthorizationPolicy') continue;
    for (const rule of r.spec.rules ?? []) for (const from of rule.from ?? []) if (from.service) known.add(serviceKey(from.namespace ?? r.metadata.namespace, from.service));
  }
  return known;
}

/** WA0005 UnknownAuthorizationTarget: an AuthorizationPolicy for a service that exists nowhere (a typo protects nothing). */
export function checkAuthorizationTargets(input: AnalysisInput): Finding[] {
  const known = existingServices(input);
  const where = input.instances
    ? 'the control plane has no instance of it, and no Route, ServicePolicy or AuthorizationPolicy caller names it'
    : 'no Route, ServicePolicy or AuthorizationPolicy caller in the files names it (add --against-control-plane to also look at registered services)';
  return ofKind(input, 'AuthorizationPolicy').flatMap((ap) => {
    const { spec, metadata } = ap.resource;
    if (known.has(serviceKey(metadata.namespace, spec.service))) return [];
    const inNamespace = [...known].filter((k) => k.startsWith(`${metadata.namespace}/`)).map((k) => k.slice(metadata.namespace.length + 1));
    const near = closestName(inNamespace, spec.service);
    const hint = near ? `did you mean "${near}"?` : 'check the name and namespace';
    return [finding('UnknownAuthorizationTarget', ap, 'spec.service', `service "${spec.service}" in namespace ${metadata.namespace} is not known: ${where}, so this policy protects nothing: ${hint}`)];
  });
}

/**
 * WA0006 AllowShadowedByDeny: an ALLOW rule that can never allow anything, because a DENY rule
 * of the same service matches every request it matches (DENY is checked first).
 */
export function checkAllowShadowedByDeny(input: AnalysisInput): Finding[] {
  const byService = new Map<string, Located<AuthorizationPolicy>[]>();
  for (const ap of ofKind(input, 'AuthorizationPolicy')) {
    const key = serviceKey(ap.resource.metadata.namespace, ap.resource.spec.service);
    byService.set(key, [...(byService.get(key) ?? []), ap]);
  }
  const findings: Finding[] = [];
  for (const located of byService.values()) {
    const first = located[0] as Located<AuthorizationPolicy>;
    // Compiled as the sidecar compiles them: the same trust domain on both sides is all that matters here.
    const table = compileAuthorization(located.map((l) => l.resource), first.resource.spec.service, first.resource.metadata.namespace);
    for (const allow of table.allow) {
      const at = located.find((l) => `${l.resource.metadata.namespace}/${l.resource.metadata.name}` === allow.name) as Located<AuthorizationPolicy>;
      for (const rule of allow.rules) {
        const deny = table.deny.flatMap((p) => p.rules.map((r) => ({ policy: p.name, rule: r }))).find((d) => denyCovers(d.rule, rule));
        if (!deny) continue;
        findings.push(
          finding(
            'AllowShadowedByDeny',
            at,
            `spec.rules[${rule.index}]`,
            `never allows a request: DENY AuthorizationPolicy ${deny.policy} spec.rules[${deny.rule.index}] matches every request this rule matches, and DENY is checked first. Narrow that DENY rule, or remove this rule`,
          ),
        );
      }
    }
  }
  return findings;
}
