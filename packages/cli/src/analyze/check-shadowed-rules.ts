import { ofKind, type AnalysisInput } from './analysis-input';
import { finding, type Finding } from './finding';
import { matchesOf, ruleCovers } from './route-match-cover';

/** `path prefix "/"`, `GET`, `every request`: an earlier rule's matches in a few words. */
function describeMatches(rule: Parameters<typeof matchesOf>[0]): string {
  return matchesOf(rule)
    .map((m) => {
      const parts: string[] = [];
      if (m.method) parts.push(m.method);
      if (m.path) parts.push(Object.entries(m.path).map(([k, v]) => `path ${k} ${JSON.stringify(v)}`).join(''));
      for (const h of m.headers ?? []) parts.push(`header ${h.name}`);
      return parts.length > 0 ? parts.join(' ') : 'every request';
    })
    .join(' or ');
}

/**
 * WA0004 ShadowedRule: a rule that no request can reach because an earlier rule of the same
 * Route matches everything it matches (first match wins), e.g. a prefix "/" before "/api".
 */
export function checkShadowedRules(input: AnalysisInput): Finding[] {
  const findings: Finding[] = [];
  for (const route of ofKind(input, 'Route')) {
    const rules = route.resource.spec.rules;
    rules.forEach((rule, i) => {
      const by = rules.findIndex((earlier, j) => j < i && ruleCovers(earlier, rule));
      if (by < 0) return;
      findings.push(
        finding(
          'ShadowedRule',
          route,
          `spec.rules[${i}]`,
          `is never used: spec.rules[${by}] (${describeMatches(rules[by] as typeof rule)}) matches every request this rule matches, and the first matching rule wins. Move this rule above spec.rules[${by}], or remove it`,
        ),
      );
    });
  }
  return findings;
}
