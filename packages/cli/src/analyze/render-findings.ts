import { atLeast, type Finding, type Severity } from './finding';

function location(f: Finding): string {
  const parts = [f.file];
  if (f.document !== null) parts.push(`document ${f.document}`);
  if (f.resource.kind) parts.push(`${f.resource.kind} ${f.resource.namespace ? `${f.resource.namespace}/` : ''}${f.resource.name || '(unnamed)'}`);
  if (f.field) parts.push(f.field);
  return parts.join(': ');
}

/** One line per finding: `ERROR [WA0002 UnknownSubset] routes.yaml: document 2: Route default/reviews: spec...: message`. */
export function renderFindings(findings: readonly Finding[]): string {
  return findings.map((f) => `${f.severity.toUpperCase()} [${f.code} ${f.name}] ${location(f)}: ${f.message}\n`).join('');
}

export interface AnalysisSummary {
  readonly errors: number;
  readonly warnings: number;
  readonly failureThreshold: Severity;
  /** True when some finding is at or above the threshold: the run exits 1. */
  readonly failed: boolean;
}

export function summarize(findings: readonly Finding[], threshold: Severity): AnalysisSummary {
  return {
    errors: findings.filter((f) => f.severity === 'error').length,
    warnings: findings.filter((f) => f.severity === 'warn').length,
    failureThreshold: threshold,
    failed: findings.some((f) => atLeast(f.severity, threshold)),
  };
}

export function renderSummary(s: AnalysisSummary, resources: number): string {
  const counted = `${resources} resource${resources === 1 ? '' : 's'}`;
  if (s.errors + s.warnings === 0) return `✓ no problems found in ${counted}\n`;
  const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
  const verdict = s.failed ? `fails (--failure-threshold ${s.failureThreshold})` : `passes (nothing at or above --failure-threshold ${s.failureThreshold})`;
  return `${s.failed ? '✗' : '✓'} ${plural(s.errors, 'error')}, ${plural(s.warnings, 'warning')} in ${counted}: the analysis ${verdict}\n`;
}
