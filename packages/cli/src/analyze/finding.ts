import type { PolicyKind, PolicyResource } from '@weft/api';

/** How bad a finding is; `--failure-threshold` picks the lowest one that fails the run. */
export type Severity = 'error' | 'warn';

const RANK: Readonly<Record<Severity, number>> = { warn: 1, error: 2 };

export function atLeast(severity: Severity, threshold: Severity): boolean {
  return RANK[severity] >= RANK[threshold];
}

/**
 * Every finding `weftctl analyze` can report. Codes are stable (CI configurations and docs name
 * them); a new check takes the next number, a retired one keeps its number unused.
 */
export const FINDINGS = Object.freeze({
  SchemaInvalid: { code: 'WA0001', severity: 'error' },
  UnknownSubset: { code: 'WA0002', severity: 'error' },
  SubsetSelectsNoInstance: { code: 'WA0003', severity: 'warn' },
  ShadowedRule: { code: 'WA0004', severity: 'warn' },
  UnknownAuthorizationTarget: { code: 'WA0005', severity: 'warn' },
  AllowShadowedByDeny: { code: 'WA0006', severity: 'warn' },
} as const satisfies Record<string, { code: string; severity: Severity }>);

export type FindingName = keyof typeof FINDINGS;

/** Where a resource came from: a document of a file, or the control plane's store. */
export interface Origin {
  /** The file as the operator named it, `-` for stdin, or `control-plane` for live state. */
  readonly file: string;
  /** 1-based document index within the file; null for live state. */
  readonly document: number | null;
}

/** A resource under analysis and where it came from. */
export interface Located<R extends PolicyResource = PolicyResource> extends Origin {
  readonly resource: R;
}

export interface Finding extends Origin {
  readonly code: string;
  readonly name: FindingName;
  readonly severity: Severity;
  readonly resource: { readonly kind: PolicyKind | string; readonly namespace: string; readonly name: string };
  /** Field path such as `spec.rules[1].backends[0].subset`; empty for the whole document. */
  readonly field: string;
  /** What is wrong and what to do about it. */
  readonly message: string;
}

/** A finding about a resource that parsed and validated. */
export function finding(name: FindingName, at: Located, field: string, message: string): Finding {
  const { code, severity } = FINDINGS[name];
  const { kind, metadata } = at.resource;
  return { code, name, severity, file: at.file, document: at.document, resource: { kind, namespace: metadata.namespace, name: metadata.name }, field, message };
}
