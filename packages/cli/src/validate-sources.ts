import { parseDocuments, validateDocuments, ValidationError, type SourcedDocument, type ValidationIssue } from '@weft/api';

/** The text of one `-f` argument, as read. */
export interface SourceText {
  readonly file: string;
  readonly text: string;
}

/**
 * Parses every source and validates all documents together (so a resource given twice is
 * caught), collecting every issue rather than stopping at the first: `apply` reports them all and
 * sends nothing, `analyze` turns them into findings and analyses the rest.
 */
export function parseAndValidate(sources: readonly SourceText[]): { docs: SourcedDocument[]; issues: ValidationIssue[] } {
  const issues: ValidationIssue[] = [];
  const docs: SourcedDocument[] = [];
  for (const { file, text } of sources) {
    try {
      docs.push(...parseDocuments(text, file));
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      issues.push(...err.issues);
    }
  }
  try {
    validateDocuments(docs);
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    issues.push(...err.issues);
  }
  return { docs, issues };
}
