/**
 * Base class for Weft errors. Callers branch on `code`, never on message text; messages are for
 * people and say what to do next.
 */
export class WeftError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** One problem with one resource, located precisely enough for an operator to fix it. */
export interface ValidationIssue {
  /** File name as the operator gave it, or `-` for stdin, or `request` for API calls. */
  readonly source: string;
  /** 1-based document index within the source. */
  readonly document: number;
  /** `Kind name`, when the document got far enough to have them. */
  readonly resource?: string;
  /** Dotted field path such as `spec.rules[0].retries.attempts`. Empty for a whole document. */
  readonly path: string;
  readonly message: string;
}

export function formatIssue(issue: ValidationIssue): string {
  const parts = [issue.source, `document ${issue.document}`];
  if (issue.resource) parts.push(issue.resource);
  if (issue.path) parts.push(issue.path);
  return `${parts.join(': ')}: ${issue.message}`;
}

export class ValidationError extends WeftError {
  readonly issues: readonly ValidationIssue[];

  constructor(issues: readonly ValidationIssue[]) {
    super('WEFT_ERR_INVALID_RESOURCE', issues.map(formatIssue).join('\n'));
    this.issues = issues;
  }
}
