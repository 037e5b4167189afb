import type { AnalysisInput } from './analysis-input';
import { checkAllowShadowedByDeny, checkAuthorizationTargets } from './check-authorization';
import { checkShadowedRules } from './check-shadowed-rules';
import { checkEmptySubsets, checkUnknownSubsets } from './check-subsets';
import type { Finding } from './finding';

/** Every check over the resources, in code order. Schema findings come from loading the files. */
const CHECKS: readonly ((input: AnalysisInput) => Finding[])[] = [
  checkUnknownSubsets, // WA0002
  checkEmptySubsets, // WA0003 (live state only)
  checkShadowedRules, // WA0004
  checkAuthorizationTargets, // WA0005
  checkAllowShadowedByDeny, // WA0006
];

export function analyze(input: AnalysisInput): Finding[] {
  return CHECKS.flatMap((check) => check(input));
}

/** Files in the order given, live state last; then document, field and code: stable for CI diffs. */
export function sortFindings(findings: readonly Finding[], files: readonly string[]): Finding[] {
  const fileOrder = (f: Finding): number => {
    const i = files.indexOf(f.file);
    return i < 0 ? files.length : i;
  };
  return [...findings].sort(
    (a, b) =>
      fileOrder(a) - fileOrder(b) ||
      (a.document ?? 0) - (b.document ?? 0) ||
      `${a.resource.kind}/${a.resource.namespace}/${a.resource.name}`.localeCompare(`${b.resource.kind}/${b.resource.namespace}/${b.resource.name}`) ||
      a.field.localeCompare(b.field, 'en', { numeric: true }) ||
      a.code.localeCompare(b.code),
  );
}
